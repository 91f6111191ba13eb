package notice

import "net/url"

// VerifyLink is the confirmation link in the verification mail and its reminder. The intake
// serves it at /verify; the intake and the sweep both send it, so it is built in one place.
func VerifyLink(baseURL, token string) string {
	return baseURL + "/verify?token=" + url.QueryEscape(token)
}
