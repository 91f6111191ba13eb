package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/bucket"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/errlog"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/token"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// The answer to an access or portability request with files (docs/design.md, Delivery). The
// DPO's browser uploads each file straight to the deliveries bucket through a presigned POST
// form (the bytes never pass through this function: API Gateway would stop at 10 MB, Lambda
// at 6 MB); the bucket's listing under the request's prefix is what the request holds, and
// the DPO may remove a file before sending. The answer itself is an action of the registry:
// its Apply lists the bucket and hands the files, with the structured answer, to
// dsr.Request.Deliver.
//
// Keys are <ref>/<upload id>/<the file's own name>: the prefix scopes a listing to one
// request, the upload id tells two files of the same name apart and is the file's id on the
// request.

// files is what the workspace does with the deliveries bucket (bucket.Bucket does it).
type files interface {
	PostForm(ctx context.Context, u bucket.Upload) (bucket.Form, error)
	List(ctx context.Context, prefix string) ([]bucket.Object, error)
	Delete(ctx context.Context, key string) error
	Origin() string
}

// handlerOption sets what only some handlers need.
type handlerOption func(*handler)

// withFiles gives the workspace the deliveries bucket.
func withFiles(f files) handlerOption { return func(h *handler) { h.files = f } }

// uploadValid is how long an upload form works: long enough to choose the files and send a
// large one on a slow line; a page left open longer is reloaded for a fresh form.
const uploadValid = 2 * time.Hour

// Actions of the registry that answer with a delivery, by type.
const (
	actionDeliver         = "deliver"
	actionDeliverPortable = "deliver_portable"
)

func init() {
	// The access answer: Art. 15(1)(a)-(d), (g), (h) and 15(2), in the order of the article,
	// each for the DPO to fill in; (e) and (f) are the desk's own text.
	var parts []field
	for _, p := range dsr.AnswerParts {
		parts = append(parts, field{Name: p, Label: "answer." + p, Hint: "admin.deliver.hint." + p, Optional: !dsr.RequiredPart(p),
			Default: func(h *handler, c *call, r *dsr.Request) string { return answerDefault(h, c, r, p) }})
	}
	message := field{Name: "message", Label: "admin.deliver.message", Hint: "admin.deliver.message_hint", Reply: true}
	register(&action{
		Name:    actionDeliver,
		Mail:    dsr.MailDelivery,
		Files:   true,
		Fields:  append(parts, message),
		Offered: offerDelivery(dsr.Access),
		Warn:    lateWarning(false),
		Apply:   applyDelivery,
	})
	register(&action{
		Name:  actionDeliverPortable,
		Mail:  dsr.MailDelivery,
		Files: true,
		Fields: []field{
			{Name: "format", Label: "admin.deliver.format", Choices: formats, ChoiceKey: "format.", Prompt: "admin.deliver.format_choose"},
			{Name: "controller", Label: "admin.deliver.controller", Hint: "admin.deliver.controller_hint", Input: "text", Optional: true},
			message,
		},
		Offered: offerDelivery(dsr.Portability),
		Warn:    lateWarning(false),
		Apply:   applyDelivery,
	})
}

func offerDelivery(ty dsr.Type) func(*handler, *call, *dsr.Request, time.Time) (bool, string) {
	return func(_ *handler, _ *call, r *dsr.Request, _ time.Time) (bool, string) {
		var te *dsr.TransitionError
		switch err := r.CanDeliver(); {
		case r.Type != ty:
			return false, ""
		case err == nil:
			return true, ""
		case errors.As(err, &te) && te.Reason == "no_address" && r.CanComplete(dsr.ResultDone) == nil:
			// No mailbox to download from: the DPO sends the data another way and completes.
			return false, "admin.refused.no_address_delivery"
		}
		return false, ""
	}
}

func formats(*handler, *call, *dsr.Request) []string { return dsr.Formats }

// applyDelivery completes r with what the form says and the files the bucket holds for it.
func applyDelivery(h *handler, c *call, r *dsr.Request, form url.Values, now time.Time) (dsr.Change, error) {
	uploaded, err := h.uploads(c.ctx, r.Ref)
	if err != nil {
		return dsr.Change{}, err
	}
	in := dsr.DeliveryInput{Message: formText(form, "message"), Files: uploaded}
	switch r.Type {
	case dsr.Access:
		in.Answer = &dsr.AccessAnswer{}
		for _, p := range dsr.AnswerParts {
			in.Answer.SetPart(p, formText(form, p))
		}
	case dsr.Portability:
		in.Format, in.Controller = form.Get("format"), formText(form, "controller")
	}
	return r.Deliver(c.sess.Email, in, h.deliveryLimits(), now)
}

func (h *handler) deliveryLimits() dsr.DeliveryLimits {
	return dsr.DeliveryLimits{MaxFile: h.cfg.MaxFile, MaxTotal: h.cfg.MaxTotal, Retention: h.cfg.Deliveries.Retention, RemindAfter: h.cfg.DeliveryReminder}
}

// uploads lists the files the bucket holds for request ref, as a delivery records them.
func (h *handler) uploads(ctx context.Context, ref string) ([]dsr.File, error) {
	objs, err := h.files.List(ctx, ref+"/")
	if err != nil {
		return nil, fmt.Errorf("admin: list the files: %w", err)
	}
	out := make([]dsr.File, 0, len(objs))
	for _, o := range objs {
		id, name, ok := strings.Cut(strings.TrimPrefix(o.Key, ref+"/"), "/")
		if !ok || id == "" || name == "" {
			continue // not an upload of the workspace's form
		}
		out = append(out, dsr.File{ID: id, Name: name, Size: o.Size, MD5: o.ETag, Key: o.Key, Uploaded: o.Modified})
	}
	return out, nil
}

// filesPanel is the files part of a delivery's form: what is uploaded, each with a button to
// remove it, and a form that uploads one more file straight to the bucket.
type filesPanel struct {
	Files []uploadLine
	Total string
	// Limits says how large a file and the files together may be.
	Limits string
	// Upload is the presigned form; nil in the preview, which changes nothing.
	Upload *bucket.Form
	// RemoveAction is where a file's remove button posts.
	RemoveAction string
	Error        string
}

type uploadLine struct{ Key, Name, Size, MD5, Uploaded string }

// panel builds the files part of action a's form for r; edit is false in the preview.
func (h *handler) panel(c *call, r *dsr.Request, a *action, edit bool, errText string) *filesPanel {
	l := c.Lang
	p := &filesPanel{Error: errText, RemoveAction: requestPath(r.Ref) + "/" + removeFile,
		Limits: i18n.T(l, "admin.files.limits", i18n.Size(l, h.cfg.MaxFile), i18n.Size(l, h.cfg.MaxTotal), int(h.cfg.Deliveries.Retention/(24*time.Hour)))}
	uploaded, err := h.uploads(c.ctx, r.Ref)
	if err != nil {
		h.log.Error("files unlisted", "ref", r.Ref, errlog.Attr(err))
		p.Error = i18n.T(l, "admin.files.unavailable")
		return p
	}
	var total int64
	for _, f := range uploaded {
		total += f.Size
		p.Files = append(p.Files, uploadLine{Key: f.Key, Name: f.Name, Size: i18n.Size(l, f.Size), MD5: f.MD5, Uploaded: h.dateTime(l, f.Uploaded)})
	}
	p.Total = i18n.Size(l, total)
	if !edit {
		return p
	}
	if len(uploaded) >= dsr.MaxFiles {
		return p
	}
	form, err := h.files.PostForm(c.ctx, bucket.Upload{
		Prefix:   r.Ref + "/" + token.New()[:16] + "/",
		MaxBytes: h.cfg.MaxFile,
		// Back to this form: the listing shows the new file.
		Redirect: h.cfg.BaseURL + requestPath(r.Ref) + "?action=" + url.QueryEscape(a.Name),
		Expires:  uploadValid,
	})
	if err != nil {
		h.log.Error("upload form", "ref", r.Ref, errlog.Attr(err))
		p.Error = i18n.T(l, "admin.files.unavailable")
		return p
	}
	p.Upload = &form
	return p
}

// removeFile is the path segment, under a request's path, of a file's remove button.
const removeFile = "remove_file"

// remove deletes an uploaded file of a request not yet answered, and shows the form again.
func (h *handler) remove(c *call, ref string) web.Response {
	form, err := h.form(c)
	if err != nil {
		return h.fail(c, err)
	}
	r, _, err := h.load(c, ref)
	if err != nil {
		return h.fail(c, err)
	}
	a := actionNamed(form.Get("action"))
	key := form.Get("key")
	if a == nil || !a.Files || r.CanDeliver() != nil || !strings.HasPrefix(key, r.Ref+"/") || strings.Contains(key, "..") {
		// A page left open after the answer went, or a forged post: the files of an answer
		// are its record.
		return h.fail(c, fmt.Errorf("admin: remove a file: %w", fault.Conflict))
	}
	if err := h.files.Delete(c.ctx, key); err != nil {
		return h.fail(c, err)
	}
	h.log.Info("file removed", "ref", r.Ref, "dpo", h.actor(c))
	return web.Redirect(requestPath(r.Ref) + "?action=" + url.QueryEscape(a.Name) + "&removed=1")
}

// allowUploads lets the page's upload form post to the bucket (CSP form-action).
func (h *handler) allowUploads(resp *web.Response, v *detailView) {
	if v.Open != nil && v.Open.Files != nil && v.Open.Files.Upload != nil {
		web.AllowFormAction(resp, h.files.Origin())
	}
}

// deliveryView is what a request's page shows of its delivery: each file, and whether the
// requester downloaded it.
type deliveryView struct {
	Files []deliveredLine
	// Answer is the structured answer given, part by part.
	Answer                   []answerLine
	Format, Controller, Note string
}

type deliveredLine struct {
	Name, Size, MD5, Expires, Downloaded string
	Fetched, Expired                     bool
}

type answerLine struct{ Label, Text string }

// deliveryOf builds r's delivery for its page, with the downloads recorded beside it (one
// Query, only for a request answered with files), which it also returns for the history.
func (h *handler) deliveryOf(c *call, r *dsr.Request) (*deliveryView, []dsr.Download) {
	d, l, now := r.Delivery, c.Lang, h.now()
	if d == nil {
		return nil, nil
	}
	v := &deliveryView{Controller: d.Controller}
	if d.Format != "" {
		v.Format = i18n.T(l, "format."+d.Format)
	}
	if a := d.Answer; a != nil {
		for _, p := range dsr.AnswerParts {
			if t := a.Part(p); t != "" {
				v.Answer = append(v.Answer, answerLine{Label: i18n.T(l, "answer."+p), Text: t})
			}
		}
	}
	if !r.HasFiles() {
		return v, nil
	}
	downloads, err := h.reqs.Downloads(c.ctx, r.Ref)
	if err != nil {
		h.log.Error("downloads unread", "ref", r.Ref, errlog.Attr(err))
		v.Note = i18n.T(l, "admin.files.downloads_unavailable")
	}
	for _, f := range d.Files {
		line := deliveredLine{Name: f.Name, Size: i18n.Size(l, f.Size), MD5: f.MD5, Expires: h.dateTime(l, f.Expires), Expired: f.Expired(now),
			Downloaded: i18n.T(l, "admin.files.not_downloaded")}
		var times []string
		for _, dl := range downloads {
			if dl.File == f.ID {
				times = append(times, h.dateTime(l, dl.At))
			}
		}
		if len(times) > 0 {
			line.Fetched, line.Downloaded = true, i18n.T(l, "admin.files.downloaded", strings.Join(times, ", "))
		}
		v.Files = append(v.Files, line)
	}
	return v, downloads
}

// withDownloads puts each download in r's history, in its place in time.
func (h *handler) withDownloads(l i18n.Lang, r *dsr.Request, history []historyEntry, downloads []dsr.Download) []historyEntry {
	if len(downloads) == 0 {
		return history
	}
	for _, dl := range downloads {
		f, _ := r.DeliveredFile(dl.File)
		history = append(history, historyEntry{at: dl.At, When: h.dateTime(l, dl.At), Who: i18n.T(l, "admin.files.requester"),
			What: i18n.T(l, "action."+string(dsr.ActionDownloaded)), Note: f.Name})
	}
	slices.SortStableFunc(history, func(a, b historyEntry) int { return a.at.Compare(b.at) })
	return history
}
