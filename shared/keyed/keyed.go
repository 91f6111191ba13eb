// Package keyed makes what must not be reversible or forgeable without the deployment's secret
// key: keyed hashes (HMAC-SHA-256) of addresses and IPs for rate counters, and signed values
// such as the form's render time.
//
// An unsalted SHA-256 of an IP address or an email address is no pseudonym: every IPv4
// address hashes in minutes, and a list of likely addresses in seconds. A keyed hash is
// reversible only by whoever holds the key. The key is 256 random bits the deployment makes on
// first use and keeps in its own table (store.DeploymentKey): not in the template, not in the
// code, nothing to configure, no Secrets Manager secret (0.40 USD a month) and no new SDK
// client in the functions. Whoever can read the table can read the key, but also the requests
// themselves; the point is that the logs and the counters alone give nothing away.
package keyed

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
)

// SecretSize is the key's length in bytes.
const SecretSize = 32

// Key is the deployment's secret key.
type Key struct{ secret []byte }

// FromSecret makes a Key of a stored secret, which must be SecretSize bytes.
func FromSecret(secret []byte) (Key, error) {
	if len(secret) != SecretSize {
		return Key{}, errors.New("keyed: the secret must be 32 bytes")
	}
	return Key{secret: secret}, nil
}

func (k Key) mac(purpose, value string) []byte {
	m := hmac.New(sha256.New, k.secret)
	// The purpose's length first, so that no purpose and value run into another's.
	m.Write([]byte{byte(len(purpose))})
	m.Write([]byte(purpose))
	m.Write([]byte(value))
	return m.Sum(nil)
}

// Hash is the keyed hash of value for purpose (a rate counter's scope, a log field): 128 bits in
// hex, enough that no two values the desk sees collide, short enough for keys and logs.
func (k Key) Hash(purpose, value string) string {
	return hex.EncodeToString(k.mac(purpose, value)[:16])
}

// Sign returns msg followed by "." and its MAC for purpose. msg must not contain a dot.
func (k Key) Sign(purpose, msg string) string {
	return msg + "." + base64.RawURLEncoding.EncodeToString(k.mac(purpose, msg))
}

// Open returns the message of a value Sign made for purpose with this key, or false.
func (k Key) Open(purpose, signed string) (string, bool) {
	msg, sig, ok := strings.Cut(signed, ".")
	if !ok {
		return "", false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, k.mac(purpose, msg)) {
		return "", false
	}
	return msg, true
}

// Source gives the deployment's secret, making it on first use (store.Store.DeploymentKey).
type Source interface {
	DeploymentKey(ctx context.Context) ([]byte, error)
}

// Keys reads the key once per container, when a request first needs it: reading it at cold
// start would delay every function's start for a read most invocations (the sweep, a page of
// the workspace) never need.
type Keys struct {
	src Source
	mu  sync.Mutex
	key *Key
}

// New returns the deployment's Keys, read from src.
func New(src Source) *Keys { return &Keys{src: src} }

// Load returns the key, reading it if this container has not yet. A failed read is returned
// and tried again on the next call.
func (k *Keys) Load(ctx context.Context) (Key, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.key != nil {
		return *k.key, nil
	}
	secret, err := k.src.DeploymentKey(ctx)
	if err != nil {
		return Key{}, err
	}
	key, err := FromSecret(secret)
	if err != nil {
		return Key{}, err
	}
	k.key = &key
	return key, nil
}
