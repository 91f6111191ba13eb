// Package templatecheck holds the tests that keep template.yaml and the code in step: the
// table the store expects, the variables each function reads, its routes, its build and its
// permissions. It has no code of its own.
package templatecheck
