package store

// RequestPrefix begins the partition key of a request and everything kept beside it.
const RequestPrefix = "REQ#"

// Access is what each function does to which items, by the prefix of the partition key: the
// functions' roles in template.yaml grant exactly this, each prefix's actions in a statement
// of their own under a dynamodb:LeadingKeys condition (infra/templatecheck holds the two in
// step), and every call a function's tests make through the store is held to it
// (shared/testkit/keyscope). So the intake cannot write a session or a sign-in link, the sweep
// touches nothing but requests, and the workspace cannot delete a request item with
// DeleteItem. (Queries on an index and the workspace's Scan name no partition; their
// statements are limited by resource instead.)
var Access = map[string]map[string][]string{
	"IntakeFunction": {
		RequestPrefix: {"BatchWriteItem", "GetItem", "PutItem", "Query", "UpdateItem"},
		RatePrefix:    {"UpdateItem"},
		KeyPrefix:     {"GetItem", "PutItem"},
	},
	"AdminFunction": {
		RequestPrefix: {"BatchGetItem", "BatchWriteItem", "GetItem", "Query", "UpdateItem"},
		RatePrefix:    {"UpdateItem"},
		KeyPrefix:     {"GetItem", "PutItem"},
		LoginPrefix:   {"DeleteItem", "GetItem", "PutItem", "UpdateItem"},
		SessionPrefix: {"DeleteItem", "GetItem", "PutItem"},
		// What the DPO keeps once: the recipients register.
		SettingsPrefix: {"GetItem", "PutItem", "Query"},
	},
	"SweepFunction": {
		RequestPrefix: {"BatchWriteItem", "GetItem", "Query", "UpdateItem"},
		// The day's ceiling on unconfirmed requests, which a release counts against.
		RatePrefix: {"UpdateItem"},
	},
	// The requester's status page: it writes a message beside a request with UpdateItem
	// (PutItem could overwrite the request itself), and counts its rate limits.
	// Mail to the privacy address and SES's bounces: it creates requests (a PutItem on
	// condition that none is there, store.CreateRequest), writes a reply's message beside its
	// request (an UpdateItem, as the status page does), and records feedback on a mail. No
	// rate counters, no keys, no sessions.
	"InboundFunction": {
		RequestPrefix: {"BatchWriteItem", "GetItem", "PutItem", "Query", "UpdateItem"},
	},
	"PortalFunction": {
		RequestPrefix: {"BatchWriteItem", "GetItem", "Query", "UpdateItem"},
		RatePrefix:    {"UpdateItem"},
		KeyPrefix:     {"GetItem", "PutItem"},
	},
}
