// Package samtemplate reads an AWS SAM template.yaml for local use: the local runner
// (infra/local) starts the functions it declares, and tests check the template against
// the code.
//
// The template is parsed with gopkg.in/yaml.v3 rather than goformation, which is archived
// and drops ScheduleV2 properties. CloudFormation short-form tags (!Ref, !Sub, !GetAtt, …)
// survive as yaml.Node tags, and the long forms ({"Ref": …}, {"Fn::Sub": …}) are accepted
// too.
//
// Two layers:
//
//   - [Template] is the document as written: parameters, globals, resources with their raw
//     Properties and Metadata. Nothing is resolved, so a check can look at what the author
//     wrote (for example that TABLE_NAME is a !Ref to the table).
//   - [Stack] is a template with parameter values and local pseudo parameters, the way
//     CloudFormation would instantiate it. It resolves intrinsic functions and gives typed
//     views: [Function] (globals merged, environment resolved, HttpApi and ScheduleV2
//     events), [Table] (convertible to a *dynamodb.CreateTableInput) and [Bucket].
//
// It evaluates what template.yaml uses and what the resources planned for it need (S3
// buckets and their policies, SES receipt rules, SNS topics and subscriptions, more
// functions with HttpApi, S3 and SNS events), and nothing else: !Ref, !Sub, !GetAtt, !If,
// !Select, !Split, !Join, !Equals, !Not, !And, !Or, !Condition, and a resource's
// Condition. Any other intrinsic function or pseudo parameter (!Base64, !FindInMap,
// !ImportValue, !GetAZs, !Cidr, AWS::StackId, …) met while resolving a resource the runner
// uses is an [UnsupportedError]: "unsupported intrinsic Fn::Base64 in resource X". The
// runner only resolves the resources it runs (functions, tables, buckets) and the
// conditions, so a resource of another type may use anything.
//
// Local resolution rules, where a real deployment would know more than we do:
//
//   - !Ref Parameter is the override, else the Default, else the empty string (listed in
//     [Stack].Unset; sam local's --env-vars can then supply the variables built from it).
//     Overrides and Defaults are checked against AllowedValues, AllowedPattern and the
//     Number type. A CommaDelimitedList or List<…> parameter resolves to a list.
//   - !Ref to a table is its TableName when set, else the logical id; to a function its
//     FunctionName, else the logical id; to a bucket its BucketName, else
//     <stack>-<logicalid> in lower case; to a topic an ARN; to any other resource its
//     logical id. SAM's implicit ServerlessHttpApi, ServerlessRestApi and <Function>Role
//     resources may be referenced too.
//   - AWS::Region, AWS::AccountId, AWS::StackName, AWS::Partition come from [StackOptions]
//     (defaults: us-east-1, 123456789012, local, aws, the values sam local uses);
//     AWS::URLSuffix is amazonaws.com; AWS::NoValue removes the property or list item that
//     holds it.
//   - !GetAtt X.Arn is a well-formed but fake ARN for the resource's service; other
//     attributes are fake strings unless [StackOptions].Attributes supplies them.
//   - A resource whose Condition is false is left out of [Stack.Functions],
//     [Stack.Tables] and [Stack.Buckets].
//
// The sam local --env-vars file format is handled by [EnvVars].
package samtemplate
