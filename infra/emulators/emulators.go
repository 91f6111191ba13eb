// Package emulators is the one launcher of the AWS emulators, for the tests
// (shared/testkit/emulator) and the local runner (infra/local) alike: it installs the npm
// packages pinned in infra/package.json, starts one on a loopback port, waits until it
// serves and stops it with everything it spawned.
//
// Each emulator is one entry below. Adding one (S3 came last) is adding an entry here and
// its package to infra/package.json: the runner's -<id>-endpoint and -<id>-port flags, the
// tests' DSR_TEST_<ID>_ENDPOINT override and the AWS_ENDPOINT_URL_* variables handed to a
// function all follow from the entry.
//
// Only tests and infra tooling import this package; no function links it (a test here
// holds that).
package emulators

import (
	"os"
	"slices"
	"strings"
)

// Emulator is one AWS API stand-in: an npm package with a command that serves it.
type Emulator struct {
	// ID names it in flags and variables: "dynamodb" gives -dynamodb-port and
	// DSR_TEST_DYNAMODB_ENDPOINT.
	ID string
	// Service is the AWS service it stands in for, for messages.
	Service string
	// Bin is the package's command in node_modules/.bin.
	Bin string
	// EndpointVars point the SDK's clients at it (AWS_ENDPOINT_URL_<SERVICE>).
	EndpointVars []string
	// Port is where the local runner starts it unless told otherwise; the tests always
	// use free ports.
	Port int
	// Resources are the template resource types that make the local runner start it;
	// none: it always does.
	Resources []string
	// ready is part of the line it prints once it listens.
	ready string
	// args are its arguments besides --port. dir is the folder for its data: "" keeps it
	// in memory where the emulator can.
	args func(dir string) []string
	// needsDir: the emulator always keeps its data in a folder; without one it gets a
	// temporary folder, removed when it stops.
	needsDir bool
	// preload is a script of this package (infra/emulators/*.js) that node loads before
	// the package's own code (--require), where the emulator needs to do as AWS does and
	// does not.
	preload string
}

var (
	// DynamoDB is dynalite. Tables go ACTIVE at once: the default 500 ms per table adds up
	// over a test suite, and callers still wait for CREATING to turn ACTIVE.
	DynamoDB = &Emulator{
		ID: "dynamodb", Service: "DynamoDB", Bin: "dynalite",
		EndpointVars: []string{"AWS_ENDPOINT_URL_DYNAMODB"},
		Port:         8000,
		ready:        "Dynalite listening at",
		args: func(dir string) []string {
			args := []string{"--host", "127.0.0.1", "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"}
			if dir != "" {
				args = append(args, "--path", dir)
			}
			return args
		},
	}
	// SES is aws-ses-v2-local, which keeps every mail it is sent and shows them at its
	// base URL. It serves both SES API versions.
	SES = &Emulator{
		ID: "ses", Service: "SES", Bin: "aws-ses-v2-local",
		EndpointVars: []string{"AWS_ENDPOINT_URL_SES", "AWS_ENDPOINT_URL_SESV2"},
		Port:         8005,
		ready:        "server running at",
		args:         func(string) []string { return []string{"--host", "127.0.0.1"} },
	}
	// S3 is s3rver. Clients must use path-style addressing (UsePathStyle): a virtual-host
	// bucket name in front of 127.0.0.1 does not resolve. It takes browser uploads (POST
	// Object) with their redirect, but checks neither a POST policy nor any signature, and
	// it is taught to put the file's name in place of ${filename} in the key, as S3 does
	// (s3rver-post.js).
	S3 = &Emulator{
		ID: "s3", Service: "S3", Bin: "s3rver",
		EndpointVars: []string{"AWS_ENDPOINT_URL_S3"},
		Port:         8006,
		Resources:    []string{"AWS::S3::Bucket"},
		ready:        "S3rver listening on",
		args: func(dir string) []string {
			return []string{"--address", "127.0.0.1", "--silent", "--no-vhost-buckets", "--directory", dir}
		},
		needsDir: true,
		preload:  "s3rver-post.js",
	}
)

// All is every emulator, in the order they are listed to a person.
var All = []*Emulator{DynamoDB, SES, S3}

// ByID returns the emulator with that ID, or nil.
func ByID(id string) *Emulator {
	i := slices.IndexFunc(All, func(e *Emulator) bool { return e.ID == id })
	if i < 0 {
		return nil
	}
	return All[i]
}

// TestEndpointVar is the variable that points the tests at a running emulator instead of
// one they start: DSR_TEST_DYNAMODB_ENDPOINT.
func (e *Emulator) TestEndpointVar() string {
	return "DSR_TEST_" + strings.ToUpper(e.ID) + "_ENDPOINT"
}

// Region is what every client of the emulators signs with: they ignore it, and eu-north-1
// is where the product runs.
const Region = "eu-north-1"

// The dummy credentials every client of the emulators signs with. dynalite and
// aws-ses-v2-local check that a request is signed, not by whom; s3rver checks the
// signature against the one key it knows.
const (
	AccessKeyID     = "S3RVER"
	SecretAccessKey = "S3RVER"
)

// Endpoints maps each emulator in use to its base URL (http://127.0.0.1:41234).
type Endpoints map[*Emulator]string

// Vars returns the AWS_ENDPOINT_URL_* variables that point the SDK at these emulators.
func (ep Endpoints) Vars() map[string]string {
	vars := map[string]string{}
	for _, e := range All {
		if url := ep[e]; url != "" {
			for _, v := range e.EndpointVars {
				vars[v] = url
			}
		}
	}
	return vars
}

// Environ returns the variables that make a process reading the AWS environment (a
// function, the local runner, config.LoadDefaultConfig) talk to these emulators, with the
// dummy credentials. Append them to os.Environ(): exec.Cmd uses the last value of a
// repeated key. The shared-config and profile variables are blanked because a developer's
// profile that does not exist here would fail a process that loads it.
func (ep Endpoints) Environ() []string {
	var env []string
	for _, e := range All {
		for _, v := range e.EndpointVars {
			if url := ep[e]; url != "" {
				env = append(env, v+"="+url)
			}
		}
	}
	return append(env,
		"AWS_REGION="+Region,
		"AWS_ACCESS_KEY_ID="+AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+SecretAccessKey,
		"AWS_SESSION_TOKEN=",
		"AWS_PROFILE=",
		"AWS_CONFIG_FILE="+os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true",
	)
}
