"""Packaging and deployment of the app to AWS (see docs/deploy.md).

- `python -m deploy.package`: the CloudFormation template + Lambda zip, offline (`make package`);
- `python -m deploy.stack deploy|destroy|outputs`: create/update/delete the stack with boto3;
- `python -m deploy.token TENANT`: issue a bearer token on the deployed table.
"""
