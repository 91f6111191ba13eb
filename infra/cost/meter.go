package cost

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
)

// Service is what a metering proxy stands in front of.
type Service int

const (
	DynamoDB Service = iota
	SES
	S3
)

// Meter counts what passes through its proxies: DynamoDB's consumed capacity, mails sent
// through SES, S3 requests. Point the functions' AWS_ENDPOINT_URL_* at the URLs Proxy
// returns and read the counts with Take.
//
// DynamoDB reports consumed capacity only when asked, so the DynamoDB proxy adds
// "ReturnConsumedCapacity":"TOTAL" to every request that does not ask already (the
// emulator does not check signatures; a real table would refuse the changed body) and
// reads the units from the answer, which it passes on unchanged. The functions' own
// behaviour is untouched: they ignore the field.
type Meter struct {
	// The emulator reports a write's units in the table alone; DynamoDB also charges the
	// writes it makes in the global secondary indexes. The meter reads every item a write
	// touches before and after it, straight from the emulator (not counted), and charges
	// the index writes DynamoDB's rules give (see indexUnits) in IndexWriteUnits.
	indexes *indexes

	mu      sync.Mutex
	use     Usage
	ops     map[string]int
	servers []*http.Server
}

// NewMeter returns a meter with no proxies yet.
func NewMeter() *Meter { return &Meter{ops: map[string]int{}} }

// Proxy starts a proxy for service in front of target (an emulator's base URL) on a free
// loopback port and returns its base URL.
func (m *Meter) Proxy(service Service, target string) (string, error) {
	u, err := url.Parse(target)
	if err != nil {
		return "", err
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	director := rp.Director
	// The Host header stays as the client signed it: s3rver checks S3 signatures.
	rp.Director = func(r *http.Request) {
		host := r.Host
		director(r)
		r.Host = host
	}
	switch service {
	case DynamoDB:
		m.indexes = newIndexes(target)
		rp.ModifyResponse = m.dynamoDBResponse
	case SES, S3:
	default:
		return "", fmt.Errorf("meter: unknown service %d", service)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var err error
		switch service {
		case DynamoDB:
			err = m.dynamoDBRequest(r)
		case SES:
			err = m.sesRequest(r)
		case S3:
			m.s3Request(r)
		}
		if err != nil {
			http.Error(w, "meter: "+err.Error(), http.StatusBadRequest)
			return
		}
		rp.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: handler}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	m.mu.Lock()
	m.servers = append(m.servers, srv)
	m.mu.Unlock()
	return "http://" + ln.Addr().String(), nil
}

// Close stops the proxies.
func (m *Meter) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.servers {
		s.Close()
	}
	m.servers = nil
}

// Take returns what was counted since the last Take, and the DynamoDB operations by name,
// and starts counting afresh.
func (m *Meter) Take() (Usage, map[string]int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ops := m.use, m.ops
	m.use, m.ops = Usage{}, map[string]int{}
	return u, ops
}

func (m *Meter) add(f func(u *Usage)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(&m.use)
}

// dynamoDBRequest asks for the consumed capacity and notes the operation on the request's
// context, for the response.
func (m *Meter) dynamoDBRequest(r *http.Request) error {
	target := r.Header.Get("X-Amz-Target")
	_, op, ok := strings.Cut(target, ".")
	if !ok {
		return fmt.Errorf("no DynamoDB operation in X-Amz-Target %q", target)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	var in map[string]json.RawMessage
	if err := json.Unmarshal(body, &in); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if _, asked := in["ReturnConsumedCapacity"]; !asked && capacityOps[op] != 0 {
		in["ReturnConsumedCapacity"] = json.RawMessage(`"TOTAL"`)
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", fmt.Sprint(len(body)))
	r.Header.Set("X-Meter-Op", op) // read back in the response; the emulator ignores it
	if consistent := string(in["ConsistentRead"]) == "true"; consistent {
		r.Header.Set("X-Meter-Consistent", "1")
	}
	if capacityOps[op] == writes && m.indexes != nil {
		id, err := m.indexes.before(r.Context(), op, in)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		r.Header.Set("X-Meter-Write", id)
	}
	m.mu.Lock()
	m.ops[op]++
	m.mu.Unlock()
	return nil
}

const (
	reads  = 1
	writes = 2
)

// capacityOps are the operations that consume capacity, by kind.
var capacityOps = map[string]int{
	"GetItem": reads, "BatchGetItem": reads, "Query": reads, "Scan": reads, "TransactGetItems": reads,
	"PutItem": writes, "UpdateItem": writes, "DeleteItem": writes, "BatchWriteItem": writes, "TransactWriteItems": writes,
}

type consumed struct {
	CapacityUnits float64
}

func (m *Meter) dynamoDBResponse(res *http.Response) error {
	op := res.Request.Header.Get("X-Meter-Op")
	consistent := res.Request.Header.Get("X-Meter-Consistent") != ""
	kind := capacityOps[op]
	if id := res.Request.Header.Get("X-Meter-Write"); id != "" {
		units, err := m.indexes.after(res.Request.Context(), id, res.StatusCode == http.StatusOK)
		if err != nil {
			return fmt.Errorf("meter: %s: %w", op, err)
		}
		m.add(func(u *Usage) { u.IndexWriteUnits += units })
	}
	if kind == 0 || res.StatusCode != http.StatusOK {
		return nil
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	var out struct {
		ConsumedCapacity json.RawMessage
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return fmt.Errorf("meter: %s answer: %w", op, err)
	}
	var units float64
	switch {
	case len(out.ConsumedCapacity) == 0:
		return fmt.Errorf("meter: %s answered without its consumed capacity", op)
	case out.ConsumedCapacity[0] == '[':
		var list []consumed
		if err := json.Unmarshal(out.ConsumedCapacity, &list); err != nil {
			return err
		}
		for _, c := range list {
			units += c.CapacityUnits
		}
	default:
		var c consumed
		if err := json.Unmarshal(out.ConsumedCapacity, &c); err != nil {
			return err
		}
		units = c.CapacityUnits
	}
	// A read that finds nothing still costs the least a read costs; the emulator says 0.
	if minimum := map[bool]float64{false: 0.5, true: 1}[consistent]; (op == "GetItem" || op == "Query" || op == "Scan") && units < minimum {
		units = minimum
	}
	m.add(func(u *Usage) {
		if kind == reads {
			u.ReadUnits += units
			return
		}
		u.WriteUnits += units
	})
	return nil
}

// sesRequest counts the recipients of every mail sent, through either SES API: the v1
// query API (Action=SendEmail, Destination.ToAddresses.member.N…) or v2's
// POST /v2/email/outbound-emails (JSON).
func (m *Meter) sesRequest(r *http.Request) error {
	if r.Method != http.MethodPost {
		return nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	recipients := 0
	if strings.HasPrefix(r.URL.Path, "/v2/email/outbound-emails") {
		var in struct {
			Destination struct{ ToAddresses, CcAddresses, BccAddresses []string }
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return err
		}
		recipients = len(in.Destination.ToAddresses) + len(in.Destination.CcAddresses) + len(in.Destination.BccAddresses)
	} else {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return err
		}
		switch form.Get("Action") {
		case "SendEmail", "SendTemplatedEmail":
			for k := range form {
				if strings.HasPrefix(k, "Destination.") && strings.Contains(k, ".member.") {
					recipients++
				}
			}
		case "SendRawEmail":
			return errors.New("SendRawEmail: the desk sends no raw mail (see the IAM policy)")
		}
	}
	m.add(func(u *Usage) { u.Mails += recipients })
	return nil
}

// s3Request counts a request in the class S3 bills it in (a DELETE is free).
func (m *Meter) s3Request(r *http.Request) {
	if r.Method == http.MethodDelete {
		return
	}
	write := r.Method == http.MethodPut || r.Method == http.MethodPost ||
		(r.Method == http.MethodGet && (r.URL.Query().Has("list-type") || strings.Count(strings.Trim(r.URL.Path, "/"), "/") == 0))
	m.add(func(u *Usage) {
		if write {
			u.S3Writes++
		} else {
			u.S3Reads++
		}
	})
}
