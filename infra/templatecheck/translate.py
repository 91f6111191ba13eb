#!/usr/bin/env python3
"""Translate a SAM template into CloudFormation with the real SAM translator (the code
behind CloudFormation's AWS::Serverless-2016-10-31 transform) and print it as JSON.

    python3 translate.py TEMPLATE [Name=Value ...]

The template is read with the SAM translator's own YAML loader, which is YAML 1.1 as
CloudFormation's is: an unquoted NO arrives as false, the way a deploy would see it.

Two things `sam deploy` does before CloudFormation sees the template are done here too:
the functions' local CodeUri is replaced by an S3 location (sam package uploads the build
there), and the region comes from AWS_DEFAULT_REGION (eu-north-1 unless set). No AWS call
is made: the template names no AWS managed policy, so the translator never needs IAM's
list; if it ever asks, the translation fails and says so.
"""

import json
import os
import sys

from samtranslator.translator.transform import transform
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.yaml_helper import yaml_parse


class OfflinePolicyLoader:
    """The translator asks for the AWS managed policies only when a function names one
    (Policies: [AmazonS3ReadOnlyAccess]); answering would need IAM credentials."""

    def load(self):
        raise SystemExit(
            "translate.py: the template names an AWS managed policy; give its ARN instead, "
            "so that the template translates without IAM credentials"
        )


def package(template):
    """Point every function's local CodeUri at S3, as sam package does after uploading."""
    for logical_id, res in template.get("Resources", {}).items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        props = res.setdefault("Properties", {})
        uri = props.get("CodeUri")
        if isinstance(uri, str) and not uri.startswith("s3://"):
            props["CodeUri"] = f"s3://dsrdesk-artifacts/{logical_id}.zip"


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    params = {}
    for arg in argv[2:]:
        name, sep, value = arg.partition("=")
        if not sep:
            raise SystemExit(f"translate.py: {arg!r} is not Name=Value")
        params[name] = value
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-north-1")
    with open(argv[1], encoding="utf-8") as f:
        template = yaml_parse(f.read())
    package(template)
    try:
        out = transform(template, params, OfflinePolicyLoader())
    except InvalidDocumentException as e:
        for cause in e.causes:
            print(f"translate.py: {cause.message}", file=sys.stderr)
        return 1
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
