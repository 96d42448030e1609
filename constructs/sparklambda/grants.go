package sparklambda

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
)

// Every IAM permission the function's role gets, in one file: the construct's own statements and the grant
// helpers, each with the cdk-nag suppression its scope needs.

// GrantReadInput lets the function list and read objects under prefix in bucket (an input location), and decrypt
// them (kms:Decrypt only) when the bucket has a KMS key. An empty prefix means the whole bucket. It panics with a
// *PropsError naming GrantReadInput when bucket is nil or prefix is not "" or a key prefix ending in "/" (no
// leading "/", "s3://" or "*"): the grant covers prefix + "*", so "data" would also grant "data-old/".
func (s *SparkLambda) GrantReadInput(bucket awss3.IBucket, prefix string) awsiam.Grant {
	checkGrantArgs("SparkLambda.GrantReadInput", bucket, prefix, "data/")
	return s.grantRead(bucket, prefix)
}

// grantRead grants read on prefix + "*" in bucket without checking prefix (AddS3Trigger's filter prefix may
// legitimately end in something other than "/").
func (s *SparkLambda) grantRead(bucket awss3.IBucket, prefix string) awsiam.Grant {
	suppressS3PrefixGrant(s.Role, prefix)
	return bucket.GrantRead(s.Role, jsii.String(prefix+"*"))
}

// GrantReadWriteTable lets the function read, write and delete objects under prefix in bucket (a table location:
// table formats rewrite and expire files), and use the bucket's KMS key (the CDK's encrypt/decrypt grant on that
// key's ARN). An empty prefix means the whole bucket. It panics with a *PropsError naming GrantReadWriteTable when
// bucket is nil or prefix is not "" or a key prefix ending in "/" (no leading "/", "s3://" or "*").
func (s *SparkLambda) GrantReadWriteTable(bucket awss3.IBucket, prefix string) awsiam.Grant {
	checkGrantArgs("SparkLambda.GrantReadWriteTable", bucket, prefix, "tables/")
	suppressS3PrefixGrant(s.Role, prefix)
	grant := bucket.GrantReadWrite(s.Role, jsii.String(prefix+"*"))
	if key := bucket.EncryptionKey(); key != nil {
		suppressKmsKeyGrant(s.Role, key, "reading and writing table files in bucket "+*bucket.Node().Path())
	}
	return grant
}

// glueTableActions are what Iceberg's GlueCatalog and Hudi/Delta catalog sync call on a database and its tables.
var glueTableActions = []string{
	"glue:GetDatabase", "glue:GetDatabases",
	"glue:GetTable", "glue:GetTables", "glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable",
	"glue:GetPartition", "glue:GetPartitions", "glue:BatchCreatePartition", "glue:BatchDeletePartition",
	"glue:CreatePartition", "glue:UpdatePartition", "glue:DeletePartition", "glue:BatchGetPartition",
}

// GrantGlueDatabase lets the function use the Glue Data Catalog database databaseName and its tables (and no
// other database) in the stack's account and region, and lets it reach the Glue API from its VPC: through a Glue
// interface endpoint when the construct created the VPC (isolated subnets have no other route) or
// AddGlueEndpoint is set, otherwise with egress HTTPS to any IPv4 address through the user's VPC route.
//
// It panics with a *PropsError naming GrantGlueDatabase when databaseName is not a Glue database name (1–255
// lowercase letters, digits or '_').
func (s *SparkLambda) GrantGlueDatabase(databaseName string) awsiam.Grant {
	if !glueNamePattern.MatchString(databaseName) {
		panic(&PropsError{Construct: "SparkLambda.GrantGlueDatabase", Problems: []string{fmt.Sprintf(
			"databaseName %q is invalid: use 1-255 lowercase letters, digits or '_' (Glue's naming rule)", databaseName)}})
	}
	stack := awscdk.Stack_Of(s.Construct)
	arn := func(resource string) *string {
		return stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("glue"), Resource: jsii.String(resource),
			ArnFormat: awscdk.ArnFormat_NO_RESOURCE_NAME})
	}
	s.network.allowGlue()
	suppressGlueTables(s.Role, databaseName)
	return awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee: s.Role,
		Actions: jsii.Strings(glueTableActions...),
		ResourceArns: &[]*string{
			arn("catalog"),
			arn("database/" + databaseName),
			arn("table/" + databaseName + "/*"),
		},
	})
}

// vpcNetworkInterfaceActions are the EC2 actions Lambda calls with the execution role to attach the function to its
// VPC (the actions of the AWS managed policy AWSLambdaVPCAccessExecutionRole).
var vpcNetworkInterfaceActions = []string{"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces",
	"ec2:DescribeSubnets", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses",
	"ec2:UnassignPrivateIpAddresses"}

// grantVpcNetworkInterfaces lets Lambda create and delete the function's ENIs in its VPC (nothing without a VPC).
// These actions do not support narrower resources in the way Lambda calls them, so they are granted on "*", in a
// policy of their own (VpcNetworkInterfaces) so that the wildcard's cdk-nag suppression and checkov skip cover
// nothing else. The function depends on that policy: Lambda checks the permissions when it creates the function.
func (s *SparkLambda) grantVpcNetworkInterfaces() {
	if s.network.vpc == nil {
		return
	}
	s.vpcPolicy = awsiam.NewPolicy(s.Construct, jsii.String("VpcNetworkInterfaces"), &awsiam.PolicyProps{
		Roles: &[]awsiam.IRole{s.Role},
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("LambdaVpcNetworkInterfaces"),
			Actions:   jsii.Strings(vpcNetworkInterfaceActions...),
			Resources: jsii.Strings("*"),
		})},
	})
	s.Function.Node().AddDependency(s.vpcPolicy)
	suppressEniWildcard(s.vpcPolicy)
}

// grantReadScript lets the handler read the script with GetObject (and HeadObject, which needs the same permission)
// on that one object only, and decrypt it (kms:Decrypt only, no wildcard action) when scriptBucket, the user's
// bucket, has a KMS key.
func (s *SparkLambda) grantReadScript(scriptBucket awss3.IBucket) {
	s.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:     jsii.String("ReadSparkScript"),
		Actions: jsii.Strings("s3:GetObject"),
		Resources: jsii.Strings(*awscdk.Fn_Join(jsii.String(""), &[]*string{
			jsii.String("arn:"), awscdk.Aws_PARTITION(), jsii.String(":s3:::"), s.ScriptBucketName, jsii.String("/"), s.ScriptKey,
		})),
	}))
	if scriptBucket != nil && scriptBucket.EncryptionKey() != nil {
		scriptBucket.EncryptionKey().GrantDecrypt(s.Role)
	}
}

// grantEnvironmentKey lets Lambda decrypt the function's environment with key (kms:Decrypt on that key only);
// nothing when key is nil.
func (s *SparkLambda) grantEnvironmentKey(key awskms.IKey) {
	if key != nil {
		key.GrantDecrypt(s.Role)
	}
}

// coverFailureQueueKeyGrant covers the key grant that sending to a KMS-encrypted failure queue needs: Lambda's
// on-failure destination and the event source mappings send with the role, and the CDK's grantSendMessages adds the
// key's encrypt/decrypt grant.
func (s *SparkLambda) coverFailureQueueKeyGrant() {
	if key := s.FailureQueue.EncryptionMasterKey(); key != nil {
		suppressKmsKeyGrant(s.Role, key, "sending failed events to the failure queue "+*s.FailureQueue.Node().Path())
	}
}

// grantLockTable lets role use the commit-coordination lock table through exactly lockTableActions on that table,
// and its customer managed key when it has one.
func grantLockTable(role awsiam.IRole, table awsdynamodb.Table, key awskms.IKey) {
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      role,
		Actions:      jsii.Strings(lockTableActions...),
		ResourceArns: &[]*string{table.TableArn()},
	})
	if key != nil {
		key.GrantEncryptDecrypt(role)
		suppressKmsKeyGrant(role, key, "the commit-coordination lock table "+*table.Node().Path())
	}
}

// grantReadKinesisStream lets the function read stream's records (the CDK's stream read grant, and its key's
// decrypt grant when the stream is encrypted).
func (s *SparkLambda) grantReadKinesisStream(stream awskinesis.IStream) {
	stream.GrantRead(s.Role)
}

// grantReadDynamoDBStream lets the function read table's stream (the CDK's stream read grant, whose
// dynamodb:ListStreams on "*" is covered by a scoped suppression).
func (s *SparkLambda) grantReadDynamoDBStream(table awsdynamodb.ITable) {
	table.GrantStreamRead(s.Role)
	suppressListStreams(s.Role)
}
