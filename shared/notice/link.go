package notice

import "net/url"

// VerifyLink is the confirmation link in the verification mail and its reminder. The intake
// serves it at /verify; the intake and the sweep both send it, so it is built in one place.
func VerifyLink(baseURL, token string) string {
	return baseURL + "/verify?token=" + url.QueryEscape(token)
}

// StatusLink is the link to the requester's status page that every mail to them about a
// confirmed request carries. The portal serves it at /status; the token is the only thing in
// it.
func StatusLink(baseURL, token string) string {
	return baseURL + "/status?token=" + url.QueryEscape(token)
}

// FilesLink is the link in the files link mail, which proves the requester's mailbox once
// more before the files of an answer are handed out (functions/portal, files.go).
func FilesLink(baseURL, token string) string {
	return baseURL + "/status/files?proof=" + url.QueryEscape(token)
}

// PreviewStatusLink is how a preview shows the status page link a mail about request ref will
// carry: the link is issued only when the mail goes, so its secret is shown cut out, as the
// text the request keeps of the mail shows it (RedactLink).
func PreviewStatusLink(baseURL, ref string) string { return RedactLink(StatusLink(baseURL, ref+".")) }
