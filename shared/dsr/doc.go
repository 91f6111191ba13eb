// Package dsr is the data-subject request model: the rights a requester can invoke, the
// lifecycle of a request, its audit trail and the validation of what a requester submits.
//
// It is pure Go and knows nothing of AWS, HTTP or storage; the store persists what the
// methods here decide, and the handlers render it.
package dsr
