"""The IAM query API through boto3's IAM client, and its effect on S3 access."""

import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import unique_bucket


def iam_client(server, key_id=None, secret=None):
    return boto3.client(
        "iam",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=key_id or server.access_key,
        aws_secret_access_key=secret or server.secret_key,
        config=Config(retries={"total_max_attempts": 1}),
    )


def error_code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def test_iam_actions_with_boto3(coffer):
    iam = iam_client(coffer)
    s3 = coffer.client()
    bucket = unique_bucket("iam")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"for readers")

    user = iam.create_user(UserName="boto-user", Path="/apps/")["User"]
    assert user["Arn"].endswith(":user/apps/boto-user")
    with pytest.raises(ClientError) as err:
        iam.create_user(UserName="boto-user")
    assert error_code(err) == "EntityAlreadyExists"
    assert iam.get_user(UserName="boto-user")["User"]["UserId"] == user["UserId"]
    names = [u["UserName"] for u in iam.get_paginator("list_users").paginate().build_full_result()["Users"]]
    assert "boto-user" in names

    document = {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [f"arn:aws:s3:::{bucket}/*"],
        }],
    }
    policy = iam.create_policy(PolicyName="boto-read", PolicyDocument=json.dumps(document))["Policy"]
    # boto3 decodes the URL-encoded document into a dict.
    version = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId="v1")["PolicyVersion"]
    assert version["Document"] == document
    iam.create_group(GroupName="boto-readers")
    iam.add_user_to_group(GroupName="boto-readers", UserName="boto-user")
    iam.attach_group_policy(GroupName="boto-readers", PolicyArn=policy["Arn"])
    attached = iam.list_attached_group_policies(GroupName="boto-readers")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [policy["Arn"]]
    assert [g["GroupName"] for g in iam.list_groups()["Groups"]] == ["boto-readers"]

    key = iam.create_access_key(UserName="boto-user")["AccessKey"]
    user_s3 = boto3.client(
        "s3",
        endpoint_url=coffer.endpoint,
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}),
    )
    assert user_s3.get_object(Bucket=bucket, Key="doc.txt")["Body"].read() == b"for readers"
    with pytest.raises(ClientError) as err:
        user_s3.put_object(Bucket=bucket, Key="nope", Body=b"x")
    assert error_code(err) == "AccessDenied"

    keys = iam.list_access_keys(UserName="boto-user")["AccessKeyMetadata"]
    assert [k["Status"] for k in keys] == ["Active"]
    iam.update_access_key(UserName="boto-user", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    with pytest.raises(ClientError) as err:
        user_s3.get_object(Bucket=bucket, Key="doc.txt")
    assert error_code(err) == "InvalidAccessKeyId"

    with pytest.raises(ClientError) as err:
        iam.delete_user(UserName="boto-user")
    assert error_code(err) == "DeleteConflict"
    iam.delete_access_key(UserName="boto-user", AccessKeyId=key["AccessKeyId"])
    iam.detach_group_policy(GroupName="boto-readers", PolicyArn=policy["Arn"])
    iam.remove_user_from_group(GroupName="boto-readers", UserName="boto-user")
    iam.delete_group(GroupName="boto-readers")
    iam.delete_policy(PolicyArn=policy["Arn"])
    iam.delete_user(UserName="boto-user")
    with pytest.raises(ClientError) as err:
        iam.get_user(UserName="boto-user")
    assert error_code(err) == "NoSuchEntity"
    assert iam.list_roles()["Roles"] == []
