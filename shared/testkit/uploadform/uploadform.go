// Package uploadform is a test helper: it sends a file through a page's presigned S3 upload
// form as a browser does, straight to the bucket, and says where the bucket sent the browser.
package uploadform

import (
	"bytes"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"testing"
)

var (
	form   = regexp.MustCompile(`(?s)<form method="post" action="([^"]+)" enctype="multipart/form-data"[^>]*>(.*?)</form>`)
	hidden = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// Post finds the multipart form on page and posts its hidden fields, in order, then content
// as the file "file" named filename (S3 wants the file last). It fails t unless the bucket
// answers with its redirect (303), and returns the redirect's target.
func Post(t testing.TB, page, filename string, content []byte) string {
	t.Helper()
	m := form.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no upload form on the page")
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, f := range hidden.FindAllStringSubmatch(m[2], -1) {
		if err := w.WriteField(html.UnescapeString(f[1]), html.UnescapeString(f[2])); err != nil {
			t.Fatal(err)
		}
	}
	part, err := w.CreateFormFile("file", filename)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := part.Write(content); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, html.UnescapeString(m[1]), &buf)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("upload of %s: %s\n%s", filename, resp.Status, b)
	}
	return resp.Header.Get("Location")
}
