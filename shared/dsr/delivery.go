package dsr

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The answer to an access request (Art. 15) and to a portability request (Art. 20), given
// inside the desk: a structured answer to Art. 15(1) and (2), and files (the copy of the data,
// Art. 15(3); the portable file, Art. 20(1)) that the requester downloads from their status
// page after proving their mailbox again. The request keeps the record of what was delivered
// (names, sizes, checksums, times); the files themselves are deleted after a while, and never
// pass through the desk's functions.

// MailDelivery tells the requester that their answer, with its files, waits on their status
// page. It carries no data and no file address, only the status page link.
const MailDelivery MailKind = "delivery"

// Audit actions of a delivery. Values are stored and translated.
const (
	// ActionDownloaded is a download of a delivered file; each is a record of its own beside
	// the request (Download), which the history shows with the trail.
	ActionDownloaded Action = "downloaded"
	// ActionDeliveryReminded: the digest told the DPO that delivered files were not
	// downloaded; its note names them.
	ActionDeliveryReminded Action = "delivery_reminded"
)

// Limits of a delivery.
const (
	// MaxFiles bounds the files of one answer: the request keeps a record of each.
	MaxFiles = 20
	// MaxAnswerText bounds each part of the structured answer.
	MaxAnswerText = 4000
	// MaxFileName bounds a file's name (S3 keys are at most 1,024 bytes).
	MaxFileName = 255
	// MaxController bounds the name and address of the controller a portable file went to.
	MaxController = 300
)

// Field error codes of a delivery, besides the common ones.
const (
	CodeNothingToDeliver = "nothing_to_deliver"
	CodeTooManyFiles     = "too_many_files"
	CodeFileTooLarge     = "file_too_large"
	CodeFilesTooLarge    = "files_too_large"
	CodeFileExpired      = "file_expired"
	// CodeConfirmNoDelivery: an access or portability request was to be completed with
	// nothing delivered, and the DPO has not confirmed that this is meant.
	CodeConfirmNoDelivery = "confirm_no_delivery"
)

// Formats a portable file may be in: structured, commonly used and machine-readable
// (Art. 20(1)). Values are stored and translated ("format.<code>").
var Formats = []string{"json", "csv", "xml", "other"}

// File is one delivered file, as the request keeps it after the file itself is gone.
type File struct {
	// ID names the upload: the second part of its key in the deliveries bucket.
	ID   string
	Name string
	Size int64
	// MD5 is the hex MD5 of the file's bytes, as S3 computed it on upload (its ETag).
	MD5 string
	// Key is the object's key in the deliveries bucket.
	Key      string
	Uploaded time.Time
	// Expires is when the file is deleted: its upload plus the deployment's retention.
	Expires time.Time
}

// Expired reports whether f is gone (or going) at now.
func (f File) Expired(now time.Time) bool { return !now.Before(f.Expires) }

// LastExpiry is when the last of d's files is deleted; zero when it has none.
func (d *Delivery) LastExpiry() time.Time {
	var last time.Time
	for _, f := range d.Files {
		if f.Expires.After(last) {
			last = f.Expires
		}
	}
	return last
}

// AccessAnswer is the structured answer to an access request: what Art. 15(1)(a)–(d), (g),
// (h) and 15(2) ask the controller to tell, in the requester's language. Art. 15(1)(e) and
// (f), the rights and the complaint, are the desk's own texts and need no filling in.
type AccessAnswer struct {
	Purposes   string // (a) the purposes of the processing
	Categories string // (b) the categories of personal data concerned
	Recipients string // (c) the recipients or categories of recipient
	Retention  string // (d) how long the data will be stored, or the criteria
	Source     string // (g) where the data came from, when not from the requester
	Automated  string // (h) automated decision-making, including profiling
	Safeguards string // 15(2) the safeguards for a transfer to a third country
}

// AnswerParts names the parts of an AccessAnswer in the order of Art. 15, as forms post them
// and texts translate them ("answer.<part>"). Stable.
var AnswerParts = []string{"purposes", "categories", "recipients", "retention", "source", "automated", "safeguards"}

// AnswerProvisions are the points of Art. 15 each of AnswerParts answers, in the same order.
var AnswerProvisions = []Provision{
	{Article: 15, Paragraph: 1, Point: "a"}, {Article: 15, Paragraph: 1, Point: "b"}, {Article: 15, Paragraph: 1, Point: "c"},
	{Article: 15, Paragraph: 1, Point: "d"}, {Article: 15, Paragraph: 1, Point: "g"}, {Article: 15, Paragraph: 1, Point: "h"},
	{Article: 15, Paragraph: 2},
}

// requiredParts are the parts every access answer must give: Art. 15(1)(a)–(d) apply to all
// processing; (g), (h) and 15(2) only where there is something to tell.
var requiredParts = []string{"purposes", "categories", "recipients", "retention"}

// RequiredPart reports whether every access answer must give part p.
func RequiredPart(p string) bool { return slices.Contains(requiredParts, p) }

// Part returns the part named name ("" for an unknown one).
func (a *AccessAnswer) Part(name string) string {
	if p := a.part(name); p != nil {
		return *p
	}
	return ""
}

// SetPart sets the part named name; an unknown name is ignored.
func (a *AccessAnswer) SetPart(name, v string) {
	if p := a.part(name); p != nil {
		*p = v
	}
}

func (a *AccessAnswer) part(name string) *string {
	switch name {
	case "purposes":
		return &a.Purposes
	case "categories":
		return &a.Categories
	case "recipients":
		return &a.Recipients
	case "retention":
		return &a.Retention
	case "source":
		return &a.Source
	case "automated":
		return &a.Automated
	case "safeguards":
		return &a.Safeguards
	}
	return nil
}

// Delivery is what an access or portability request was answered with, beyond the message.
type Delivery struct {
	At time.Time
	By string
	// Files are the delivered files, in the order the requester sees them.
	Files []File
	// Answer is the structured answer of an access request.
	Answer *AccessAnswer
	// Format is the portable file's format (Formats), for a portability request.
	Format string
	// Controller is the controller the portable data was sent to directly at the requester's
	// wish (Art. 20(2)): its name and address, "" when it went to the requester.
	Controller string
	// RemindAt is when the digest reminds the DPO of files not yet downloaded; RemindedAt,
	// when it did.
	RemindAt, RemindedAt time.Time
}

// DeliveryInput is what a DPO completes an access or portability request with.
type DeliveryInput struct {
	// Message is what the requester is told besides; it must not carry the data itself.
	Message    string
	Files      []File
	Answer     *AccessAnswer
	Format     string
	Controller string
}

// DeliveryLimits are the deployment's bounds on a delivery.
type DeliveryLimits struct {
	// MaxFile and MaxTotal bound one file and all files of the answer, in bytes.
	MaxFile, MaxTotal int64
	// Retention is how long a file is kept after its upload; RemindAfter, how long after the
	// answer the DPO is reminded of files not downloaded (0: never).
	Retention, RemindAfter time.Duration
}

// CanDeliver says whether r may be completed with a delivery now, and if not, why (a
// *TransitionError whose Reason is "not_allowed", "no_delivery", or "no_address" for a
// requester the desk cannot mail).
func (r *Request) CanDeliver() error {
	if !r.Type.Rules().Delivers {
		return &TransitionError{From: r.Status, To: Completed, Reason: "no_delivery"}
	}
	if !r.ByMail() {
		// The files are downloaded from the status page, behind the mailbox proved again: a
		// requester without one gets their data by letter or by hand, and the request is
		// completed saying so.
		return &TransitionError{From: r.Status, To: Completed, Reason: "no_address"}
	}
	return r.CanComplete(ResultDone)
}

// CheckFiles checks what a delivery of files would hold against the limits at now: their
// number, each one's size and their total, and that none has expired. The workspace asks it
// before it offers another upload; Deliver refuses by it. The code is "" when they pass.
func CheckFiles(files []File, lim DeliveryLimits, now time.Time) string {
	var total int64
	for _, f := range files {
		total += f.Size
		switch {
		case f.Size > lim.MaxFile:
			return CodeFileTooLarge
		case lim.Retention > 0 && !now.Before(f.Uploaded.Add(lim.Retention)):
			return CodeFileExpired
		}
	}
	switch {
	case len(files) > MaxFiles:
		return CodeTooManyFiles
	case total > lim.MaxTotal:
		return CodeFilesTooLarge
	}
	return ""
}

// Deliver completes r with a delivery: the message, the structured answer (access), the
// files, and for a portability request the format and, if the data went straight to another
// controller, which. It queues the delivery mail, which links to the status page and holds
// no data. An access answer gives at least Art. 15(1)(a)–(d); a portability answer names the
// format and delivers a file, or names the controller it went to. A late answer is allowed
// and recorded as late.
func (r *Request) Deliver(actor string, in DeliveryInput, lim DeliveryLimits, now time.Time) (Change, error) {
	if err := r.CanDeliver(); err != nil {
		return Change{}, err
	}
	errs := FieldErrors{}
	if code := CheckText(in.Message, MaxMessage, true, true); code != "" {
		errs["message"] = code
	}
	for _, f := range in.Files {
		if f.ID == "" || f.Key == "" || f.Size < 1 || CheckText(f.Name, MaxFileName, false, true) != "" {
			errs["files"] = CodeInvalidChoice
		}
	}
	if code := CheckFiles(in.Files, lim, now); code != "" {
		errs["files"] = code
	}
	d := &Delivery{At: now.UTC(), By: actor}
	switch r.Type {
	case Access:
		a := in.Answer
		if a == nil {
			a = &AccessAnswer{}
		}
		for _, p := range AnswerParts {
			if code := CheckText(a.Part(p), MaxAnswerText, true, slices.Contains(requiredParts, p)); code != "" {
				errs[p] = code
			}
		}
		d.Answer = a
	case Portability:
		if !slices.Contains(Formats, in.Format) {
			errs["format"] = CodeInvalidChoice
			if in.Format == "" {
				errs["format"] = CodeRequired
			}
		}
		if code := CheckText(in.Controller, MaxController, false, false); code != "" {
			errs["controller"] = code
		}
		if len(in.Files) == 0 && in.Controller == "" && errs["files"] == "" {
			errs["files"] = CodeNothingToDeliver
		}
		d.Format, d.Controller = in.Format, in.Controller
	}
	if len(errs) > 0 {
		return Change{}, errs
	}
	for _, f := range in.Files {
		f.Uploaded, f.Expires = f.Uploaded.UTC(), f.Uploaded.UTC().Add(lim.Retention)
		d.Files = append(d.Files, f)
	}
	if len(d.Files) > 0 && lim.RemindAfter > 0 {
		d.RemindAt = d.At.Add(lim.RemindAfter)
	}
	o := &Outcome{Result: ResultDone, Message: in.Message}
	o.Late = r.LatenessAt(false, now)
	c, err := r.move(Completed, actor, withLate(in.Message+"\n"+d.summary(), o.Late), now, FieldOutcome|FieldDelivery, MailDelivery)
	if err != nil {
		return c, err
	}
	r.Outcome, r.Delivery = o, d
	return c, nil
}

// summary is the audit trail's line for a delivery: the files by name, size and checksum,
// and where a portable file went. Stored as written, in no language.
func (d *Delivery) summary() string {
	var parts []string
	for _, f := range d.Files {
		parts = append(parts, fmt.Sprintf("%s (%d bytes, md5 %s)", f.Name, f.Size, f.MD5))
	}
	s := "delivered: " + fmt.Sprint(len(d.Files)) + " files"
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	if d.Answer != nil {
		s += "; with the Art. 15 answer"
	}
	if d.Format != "" {
		s += "; format " + d.Format
	}
	if d.Controller != "" {
		s += "; sent to " + d.Controller
	}
	return s
}

// DeliveredFile returns file id of r's delivery.
func (r *Request) DeliveredFile(id string) (File, bool) {
	if r.Delivery == nil {
		return File{}, false
	}
	i := slices.IndexFunc(r.Delivery.Files, func(f File) bool { return f.ID == id })
	if i < 0 {
		return File{}, false
	}
	return r.Delivery.Files[i], true
}

// HasFiles reports whether r was answered with files.
func (r *Request) HasFiles() bool { return r.Delivery != nil && len(r.Delivery.Files) > 0 }

// FilesOpen reports whether any delivered file of r can still be downloaded at now: r's
// status page is open (PageOpen) and a file has not expired.
func (r *Request) FilesOpen(now time.Time) bool {
	if !r.HasFiles() || !r.PageOpen(now) {
		return false
	}
	return slices.ContainsFunc(r.Delivery.Files, func(f File) bool { return !f.Expired(now) })
}

// CanDownload returns file id of r's delivery if its holder may download it at now: it was
// delivered, has not expired, and r's status page is open. Otherwise the *TransitionError's
// Reason is "no_file" or "file_expired".
func (r *Request) CanDownload(id string, now time.Time) (File, error) {
	f, ok := r.DeliveredFile(id)
	switch {
	case !ok || r.Status != Completed || !r.PageOpen(now):
		return File{}, &TransitionError{From: r.Status, To: r.Status, Reason: "no_file"}
	case f.Expired(now):
		return File{}, &TransitionError{From: r.Status, To: r.Status, Reason: "file_expired"}
	}
	return f, nil
}

// Download is one download of a delivered file, stored beside the request: each is an audit
// record of its own, so that however often a file is fetched the request itself stays small.
type Download struct {
	// ID orders the downloads by time (NewMessageID's form).
	ID   string
	At   time.Time
	File string
}

// NewDownload records that file was downloaded at now.
func NewDownload(file string, now time.Time) Download {
	now = now.UTC()
	return Download{ID: NewMessageID(now), At: now, File: file}
}

// Downloaded returns the IDs of the files of r's delivery that downloads fetched at least
// once, in the delivery's order.
func (r *Request) Downloaded(downloads []Download) []string {
	if r.Delivery == nil {
		return nil
	}
	var out []string
	for _, f := range r.Delivery.Files {
		if slices.ContainsFunc(downloads, func(d Download) bool { return d.File == f.ID }) {
			out = append(out, f.ID)
		}
	}
	return out
}

// NotDownloaded returns the files of r's delivery that no download fetched.
func (r *Request) NotDownloaded(downloads []Download) []File {
	if r.Delivery == nil {
		return nil
	}
	var out []File
	for _, f := range r.Delivery.Files {
		if !slices.ContainsFunc(downloads, func(d Download) bool { return d.File == f.ID }) {
			out = append(out, f)
		}
	}
	return out
}

// deliveryReminderAt is when the sweep is to look whether r's files were downloaded, and
// remind the DPO of those that were not, if it is to.
func (r *Request) deliveryReminderAt() (time.Time, bool) {
	d := r.Delivery
	if r.Status != Completed || d == nil || d.RemindAt.IsZero() || !d.RemindedAt.IsZero() {
		return time.Time{}, false
	}
	return d.RemindAt, true
}

// DeliveryReminderDue reports whether the sweep is to look at now whether r's files were
// downloaded (RemindDelivery).
func (r *Request) DeliveryReminderDue(now time.Time) bool {
	at, ok := r.deliveryReminderAt()
	return ok && !now.Before(at)
}

// ActionDeliveryFetched: when the sweep looked, every delivered file had been downloaded.
const ActionDeliveryFetched Action = "delivery_fetched"

// RemindDelivery records what the sweep found when r's reminder fell due, given r's
// downloads: every file fetched (ActionDeliveryFetched), or the digest reminded the DPO of
// those that were not (ActionDeliveryReminded, naming them). Either way r leaves the sweep's
// queue. Nothing is sent to the requester.
func (r *Request) RemindDelivery(downloads []Download, now time.Time) (Change, error) {
	if !r.DeliveryReminderDue(now) {
		return Change{}, &TransitionError{From: r.Status, To: r.Status, Reason: "not_allowed"}
	}
	ev := AuditEvent{At: now.UTC(), Actor: ActorSystem, Action: ActionDeliveryFetched}
	if missing := r.NotDownloaded(downloads); len(missing) > 0 {
		names := make([]string, len(missing))
		for i, f := range missing {
			names[i] = f.Name
		}
		ev.Action, ev.Note = ActionDeliveryReminded, "not downloaded: "+strings.Join(names, ", ")
	}
	c := r.begin(ev, FieldDelivery)
	r.Delivery.RemindedAt = now.UTC()
	return c, nil
}
