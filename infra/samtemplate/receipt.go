package samtemplate

import (
	"fmt"
	"strings"
)

// TypeReceiptRule is an SES receipt rule.
const TypeReceiptRule = "AWS::SES::ReceiptRule"

// ReceiptRule is an AWS::SES::ReceiptRule with an S3 action and a Lambda action, as the
// local runner plays it: mail for Recipients is stored in Bucket under Prefix followed by its
// message id, then Function (a logical id) is invoked with the receipt.
type ReceiptRule struct {
	LogicalID  string
	Name       string
	Recipients []string
	Bucket     string
	Prefix     string
	// Function is the logical id of the function the Lambda action invokes.
	Function string
	// FunctionARN is its ARN as the stack resolves it, for the event.
	FunctionARN string
}

// ReceiptRules returns every receipt rule whose Condition (if any) holds, sorted by logical
// id. A rule without an S3 and a Lambda action is an error: the runner plays only those.
func (s *Stack) ReceiptRules() ([]*ReceiptRule, error) {
	var out []*ReceiptRule
	for _, id := range s.Template.IDs(TypeReceiptRule) {
		if !s.created(id) {
			continue
		}
		node := s.Template.Resources[id].Properties.Lookup("Rule")
		v, err := s.Resolve(node)
		if err != nil {
			return nil, fmt.Errorf("receipt rule %s: %w", id, in("resource "+id, err))
		}
		rule, _ := v.(map[string]any)
		rr := &ReceiptRule{LogicalID: id, Name: fmt.Sprint(rule["Name"])}
		if list, ok := rule["Recipients"].([]any); ok {
			for _, x := range list {
				rr.Recipients = append(rr.Recipients, fmt.Sprint(x))
			}
		}
		actions, _ := rule["Actions"].([]any)
		for _, a := range actions {
			m, _ := a.(map[string]any)
			if s3, ok := m["S3Action"].(map[string]any); ok {
				rr.Bucket, _ = s3["BucketName"].(string)
				rr.Prefix, _ = s3["ObjectKeyPrefix"].(string)
			}
			if l, ok := m["LambdaAction"].(map[string]any); ok {
				rr.FunctionARN, _ = l["FunctionArn"].(string)
			}
		}
		// The function is the one whose ARN the action resolves to.
		for _, fid := range s.Template.IDs(TypeFunction) {
			if arn, err := s.attribute(nodeFor(fid+".Arn"), fid, "Arn"); err == nil && arn == rr.FunctionARN {
				rr.Function = fid
			}
		}
		if rr.Bucket == "" || rr.Function == "" {
			return nil, fmt.Errorf("receipt rule %s: the local runner plays a rule with an S3 action into a bucket of the stack and then a Lambda action on one of its functions (%s)",
				id, strings.Join([]string{"bucket " + rr.Bucket, "function " + rr.FunctionARN}, ", "))
		}
		out = append(out, rr)
	}
	return out, nil
}
