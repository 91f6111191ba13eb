package samtemplate

import (
	"fmt"
	"strings"
)

// Bucket is an AWS::S3::Bucket: the local runner creates it in the S3 emulator. Its other
// properties (encryption, lifecycle, notifications) are not run locally.
type Bucket struct {
	LogicalID string
	// BucketName is the BucketName property, else a name made from the stack's name and
	// the logical id (what !Ref gives).
	BucketName string
}

// Buckets returns every bucket whose Condition (if any) holds, sorted by logical id.
func (s *Stack) Buckets() ([]*Bucket, error) {
	var out []*Bucket
	for _, id := range s.Template.IDs(TypeBucket) {
		if !s.created(id) {
			continue
		}
		name, err := s.ref(nodeFor(id))
		if err != nil {
			return nil, fmt.Errorf("bucket %s: %w", id, in("resource "+id, err))
		}
		out = append(out, &Bucket{LogicalID: id, BucketName: name.(string)})
	}
	return out, nil
}

// generatedBucketName stands in for the name CloudFormation makes up for a bucket without
// BucketName (stack-logicalid-random): lower case, as S3 requires, at most 63 characters.
func (s *Stack) generatedBucketName(id string) string {
	name := strings.ToLower(s.Name + "-" + id)
	return name[:min(len(name), 63)]
}

// Declares reports whether the stack creates a resource of type typ: one is declared and
// its Condition (if any) holds.
func (s *Stack) Declares(typ string) bool {
	for _, id := range s.Template.IDs(typ) {
		if s.created(id) {
			return true
		}
	}
	return false
}
