package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/token"
)

// Login is a pending DPO sign-in: who asked, and where they were going.
type Login struct {
	Email string
	// Next is the workspace path to open after signing in; the handler validated it.
	Next    string
	Expires time.Time
	// Browser is the hash of the secret in the cookie of the browser that asked: the link
	// signs in only a browser that sends it (AttachBrowser adds more).
	Browser string
	// For is the keyed hash of the address the link was sent to, under which the newest link
	// is found again (AttachBrowser).
	For string
}

// Key prefixes of the workspace's items, for IAM's dynamodb:LeadingKeys.
const (
	LoginPrefix   = "LOGIN#"
	SessionPrefix = "SESSION#"
)

// maxBrowsers bounds the browsers one link signs in: AttachBrowser adds one per request for
// an address over its mail limit, and an item must stay far below DynamoDB's 400 KB.
const maxBrowsers = 2000

// Session is a signed-in DPO.
type Session struct {
	Email string
	// CSRF is the per-session secret every state-changing form carries. It is kept in clear
	// because pages must print it; on its own it grants nothing without the session cookie,
	// whose id is stored only as a hash.
	CSRF    string
	Created time.Time
	Expires time.Time
}

// The items are keyed by the hash of the secret: a copy of the table yields no usable link or
// session, and the secret itself is only ever in the mail, the cookie or the request.
func loginKey(tok string) map[string]ddbtypes.AttributeValue {
	return loginKeyOf(token.Hash(tok))
}

func loginKeyOf(hash string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{AttrPK: str(LoginPrefix + hash), AttrSK: str("LOGIN")}
}

// newestKey is the item that names the newest link sent to an address (by its keyed hash).
func newestKey(forKey string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{AttrPK: str(LoginPrefix + "newest#" + forKey), AttrSK: str("LOGIN")}
}

func sessionKey(id string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{AttrPK: str(SessionPrefix + token.Hash(id)), AttrSK: str("SESSION")}
}

type loginItem struct {
	Email     string   `dynamodbav:"email"`
	Next      string   `dynamodbav:"next,omitempty"`
	Browsers  []string `dynamodbav:"browsers,stringset,omitempty"`
	CreatedAt string   `dynamodbav:"created_at"`
	ExpiresAt int64    `dynamodbav:"expires_at"`
}

type newestItem struct {
	Link      string `dynamodbav:"link"`
	ExpiresAt int64  `dynamodbav:"expires_at"`
}

type sessionItem struct {
	Email     string `dynamodbav:"email"`
	CSRF      string `dynamodbav:"csrf"`
	CreatedAt string `dynamodbav:"created_at"`
	ExpiresAt int64  `dynamodbav:"expires_at"`
}

// CreateLogin stores a sign-in link for l.Email, keyed by the hash of tok, until l.Expires
// (to the second), for the browser l.Browser; and, alongside, that it is the newest link for
// l.For.
func (s *Store) CreateLogin(ctx context.Context, tok string, l Login) error {
	it := loginItem{Email: l.Email, Next: l.Next, CreatedAt: TimeKey(s.now()), ExpiresAt: l.Expires.Unix()}
	if l.Browser != "" {
		it.Browsers = []string{l.Browser}
	}
	var created, newest error
	var wg sync.WaitGroup
	wg.Go(func() { created = s.putNew(ctx, "login", loginKey(tok), it) })
	if l.For != "" {
		wg.Go(func() {
			av, err := attributevalue.MarshalMap(newestItem{Link: token.Hash(tok), ExpiresAt: l.Expires.Unix()})
			if err == nil {
				maps.Copy(av, newestKey(l.For))
				_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: av})
			}
			if err != nil {
				newest = unavailable("store: newest login", err)
			}
		})
	}
	wg.Wait()
	return errors.Join(created, newest)
}

// AttachBrowser lets the newest live link sent to forKey's address sign in one more browser
// too: the one whose cookie secret hashes to browser. It is how a DPO whose address strangers
// keep asking links for (and so over its mail limit) still gets a link: the newest one in
// their mailbox, which then works in their browser and in no stranger's. fault.NotFound if
// there is no live link, or it already serves maxBrowsers browsers.
func (s *Store) AttachBrowser(ctx context.Context, forKey, browser string) error {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: newestKey(forKey), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return unavailable("store: newest login", err)
	}
	var n newestItem
	if out.Item == nil || attributevalue.UnmarshalMap(out.Item, &n) != nil || n.Link == "" || s.expired(n.ExpiresAt) {
		return fmt.Errorf("store: no live sign-in link: %w", fault.NotFound)
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      loginKeyOf(n.Link),
		UpdateExpression:         aws.String("ADD #b :b"),
		ConditionExpression:      aws.String("attribute_exists(#pk) AND #exp > :now AND (attribute_not_exists(#b) OR size(#b) < :max)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK, "#exp": AttrExpiresAt, "#b": "browsers"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":b":   &ddbtypes.AttributeValueMemberSS{Value: []string{browser}},
			":now": num64(s.now().Unix()),
			":max": num(maxBrowsers),
		},
	})
	switch {
	case isConditionFailed(err):
		return fmt.Errorf("store: sign-in link used, expired or full: %w", fault.NotFound)
	case err != nil:
		return unavailable("store: attach browser", err)
	}
	return nil
}

// ConsumeLogin spends a sign-in link from the browser whose cookie secret hashes to browser:
// ONE conditional delete that succeeds only while the link exists, has not expired and serves
// that browser, so of two clicks (or a click and a replay) exactly one gets the login. An
// unknown, used or expired link is fault.NotFound; a live link pressed in another browser is
// fault.Forbidden and stays live for the right one.
func (s *Store) ConsumeLogin(ctx context.Context, tok, browser string) (Login, error) {
	out, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                aws.String(s.table),
		Key:                      loginKey(tok),
		ConditionExpression:      aws.String("attribute_exists(#pk) AND #exp > :now AND contains(#b, :b)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK, "#exp": AttrExpiresAt, "#b": "browsers"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":now": num64(s.now().Unix()),
			":b":   str(browser),
		},
		ReturnValues: ddbtypes.ReturnValueAllOld,
	})
	switch {
	case isConditionFailed(err):
		// Only now is it worth a read: to tell the person to use the browser they asked from.
		live, gerr := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: loginKey(tok), ConsistentRead: aws.Bool(true)})
		var it loginItem
		if gerr == nil && live.Item != nil && attributevalue.UnmarshalMap(live.Item, &it) == nil && !s.expired(it.ExpiresAt) {
			return Login{}, fmt.Errorf("store: sign-in link of another browser: %w", fault.Forbidden)
		}
		return Login{}, fmt.Errorf("store: sign-in link: %w", fault.NotFound)
	case err != nil:
		return Login{}, unavailable("store: consume login", err)
	}
	var it loginItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return Login{}, fmt.Errorf("store: decode login: %w", err)
	}
	return Login{Email: it.Email, Next: it.Next, Expires: time.Unix(it.ExpiresAt, 0).UTC(), Browser: browser}, nil
}

// CreateSession stores a session under the hash of id. Its expiry is checked in code on every
// read; TTL only removes it eventually.
func (s *Store) CreateSession(ctx context.Context, id string, sess Session) error {
	it := sessionItem{Email: sess.Email, CSRF: sess.CSRF, CreatedAt: TimeKey(sess.Created), ExpiresAt: sess.Expires.Unix()}
	return s.putNew(ctx, "session", sessionKey(id), it)
}

// putNew stores item under key unless an item is there already (fault.Conflict): a secret's
// hash that is taken is a secret drawn twice, which must not overwrite the other's item.
func (s *Store) putNew(ctx context.Context, what string, key map[string]ddbtypes.AttributeValue, item any) error {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return fmt.Errorf("store: marshal %s: %w", what, err)
	}
	maps.Copy(av, key)
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.table),
		Item:                av,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	switch {
	case isConditionFailed(err):
		return fmt.Errorf("store: create %s: %w", what, fault.Conflict)
	case err != nil:
		return unavailable("store: create "+what, err)
	}
	return nil
}

// GetSession returns the session for id. A missing, signed-out or expired session is
// fault.NotFound.
func (s *Store) GetSession(ctx context.Context, id string) (Session, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            sessionKey(id),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Session{}, unavailable("store: get session", err)
	}
	if out.Item == nil {
		return Session{}, fmt.Errorf("store: session: %w", fault.NotFound)
	}
	var it sessionItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return Session{}, fmt.Errorf("store: decode session: %w", err)
	}
	// An item without an expiry would live for ever; treat it as broken rather than valid.
	if it.ExpiresAt == 0 || s.expired(it.ExpiresAt) {
		return Session{}, fmt.Errorf("store: session expired: %w", fault.NotFound)
	}
	created, _ := time.Parse(timeKey, it.CreatedAt)
	return Session{Email: it.Email, CSRF: it.CSRF, Created: created, Expires: time.Unix(it.ExpiresAt, 0).UTC()}, nil
}

// DeleteSession ends a session (sign-out). Deleting a session that is already gone is not an
// error: the outcome the caller wants holds either way.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: sessionKey(id)})
	if err != nil {
		return unavailable("store: delete session", err)
	}
	return nil
}
