package load

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// statusLinkRE finds the status page link every mail about a confirmed request carries.
var statusLinkRE = regexp.MustCompile(`/status\?token=[^\s"<>]+`)

// statusPhases opens the status page of each confirmed request from the link in its
// receipt, as a mail program does, and then replies from that page, as many requesters at
// a time as there are clients. It returns both phases and the addresses that replied.
func (d *desk) statusPhases(t *testing.T, clients int, emails []string, mails map[string][]mail) (open, reply *phase, replied []string) {
	t.Helper()
	open = &phase{name: "status page (GET /status from the receipt's link)"}
	reply = &phase{name: "reply (POST /status/reply)"}
	var mu sync.Mutex
	queue := make(chan string)
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for email := range queue {
				if d.statusAndReply(open, reply, email, mails[email]) {
					mu.Lock()
					replied = append(replied, email)
					mu.Unlock()
				}
			}
		})
	}
	for _, email := range emails {
		queue <- email
	}
	close(queue)
	wg.Wait()
	// The two phases interleave: each took the whole stretch.
	open.took = time.Since(start)
	reply.took = open.took
	return open, reply, replied
}

var formFieldRE = regexp.MustCompile(`name="form" value="([^"]+)"`)

// statusAndReply is one requester: the page from the receipt's link, then a reply from it.
func (d *desk) statusAndReply(open, reply *phase, email string, ms []mail) bool {
	var link string
	for _, m := range ms {
		if l := statusLinkRE.FindString(m.Body.Text); l != "" && strings.Contains(m.Body.Text, d.base+l) {
			link = l // the last mail's link: each mail issues a new one
		}
	}
	if link == "" {
		open.add(0, 0, http.StatusOK, fmt.Errorf("%s: no status page link in %d mails", email, len(ms)))
		return false
	}
	start := time.Now()
	req, _ := http.NewRequest(http.MethodGet, d.base+link, nil)
	req.Header.Set("Accept-Language", "da")
	req.Header.Set("Sec-Fetch-Site", "none")
	res, err := d.client.Do(req)
	var body []byte
	var cookie *http.Cookie
	if err == nil {
		body, _ = io.ReadAll(res.Body)
		res.Body.Close()
		for _, c := range res.Cookies() {
			if c.Name == "dsr_status" {
				cookie = c
			}
		}
	}
	status := 0
	if res != nil {
		status = res.StatusCode
	}
	open.add(time.Since(start), status, http.StatusOK, err)
	m := formFieldRE.FindSubmatch(body)
	if status != http.StatusOK || cookie == nil || m == nil {
		return false
	}

	form := url.Values{"form": {string(m[1])}, "lang": {"da"}, "text": {"Jeg har også en konto under mit pigenavn."}}
	start = time.Now()
	req, _ = http.NewRequest(http.MethodPost, d.base+"/status/reply", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", d.base)
	req.Header.Set("Accept-Language", "da")
	req.AddCookie(cookie)
	res, err = d.client.Do(req)
	status = 0
	if err == nil {
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		status = res.StatusCode
	}
	reply.add(time.Since(start), status, http.StatusSeeOther, err)
	return status == http.StatusSeeOther
}
