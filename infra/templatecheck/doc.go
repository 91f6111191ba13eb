// Package templatecheck holds template.yaml to the code and to what a deploy does with it.
//
// Its tests check the table the store expects, the variables each function reads, its
// routes, its build and its permissions against the template as written; and, through the
// real SAM translator (translate.py) and cfn-lint, what CloudFormation will do with it for
// several sets of parameter values. The package's code is what those tests need and
// CloudFormation does not offer offline: [Misreadings] reads the template as YAML 1.1, as
// CloudFormation does, beside YAML 1.2; [Translate] runs the SAM translator; and [Stack]
// checks parameter values, evaluates conditions and resolves the translated template.
package templatecheck
