package sparklambda

import (
	"fmt"
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Every IAM permission the function's role gets, in one file: the construct's own statements and the grant
// helpers, each with the cdk-nag suppression its scope needs.

// dataAccess is who receives the data grants of a SparkLambda: the function itself, and every EMR Serverless job role
// that runs its script (RouteLargeInputsTo), so that both engines have the same least-privilege access.
type dataAccess struct {
	scope   constructs.Construct // where per-grantee helper constructs go
	role    awsiam.IRole
	network *network // nil: no network to open (a grantee without one)
	own     bool     // the function's own role (not a job role routed from it)
}

// dataGrant is one data grant (script, input prefix, table prefix, Glue database, lock table), applied to a grantee.
type dataGrant func(to dataAccess) awsiam.Grant

// grantData applies grant to the function and to every job role routed from it, and records it for job roles routed
// later; it returns the function's grant.
func (s *SparkLambda) grantData(grant dataGrant) awsiam.Grant {
	s.dataGrants = append(s.dataGrants, grant)
	for _, mirror := range s.dataMirrors {
		grant(mirror)
	}
	return grant(dataAccess{scope: s.Construct, role: s.Role, network: s.network, own: true})
}

// mirrorDataGrants gives to every data grant the function has, and every one it gets later.
func (s *SparkLambda) mirrorDataGrants(to dataAccess) {
	for _, grant := range s.dataGrants {
		grant(to)
	}
	s.dataMirrors = append(s.dataMirrors, to)
}

// GrantReadInput lets the function list and read objects under prefix in bucket (an input location), and decrypt
// them (kms:Decrypt only) when the bucket has a KMS key. An empty prefix means the whole bucket. It panics with a
// *PropsError naming GrantReadInput when bucket is nil or prefix is not "" or a key prefix ending in "/" (no
// leading "/", "s3://" or "*"): the grant covers prefix + "*", so "data" would also grant "data-old/". The EMR
// Serverless job role of RouteLargeInputsTo gets the same grant, whether it was routed before or after this call.
func (s *SparkLambda) GrantReadInput(bucket awss3.IBucket, prefix string) awsiam.Grant {
	checkGrantArgs("SparkLambda.GrantReadInput", bucket, prefix, "data/")
	return s.grantRead(bucket, prefix)
}

// grantRead grants read on prefix + "*" in bucket without checking prefix (AddS3Trigger's filter prefix may
// legitimately end in something other than "/").
func (s *SparkLambda) grantRead(bucket awss3.IBucket, prefix string) awsiam.Grant {
	return s.grantData(func(to dataAccess) awsiam.Grant { return grantReadPrefix(to.role, bucket, prefix) })
}

// GrantReadWriteTable lets the function read, write and delete objects under prefix in bucket (a table location:
// table formats rewrite and expire files), and use the bucket's KMS key (the CDK's encrypt/decrypt grant on that
// key's ARN). An empty prefix means the whole bucket. It panics with a *PropsError naming GrantReadWriteTable when
// bucket is nil or prefix is not "" or a key prefix ending in "/" (no leading "/", "s3://" or "*"). The EMR
// Serverless job role of RouteLargeInputsTo gets the same grant, whether it was routed before or after this call.
func (s *SparkLambda) GrantReadWriteTable(bucket awss3.IBucket, prefix string) awsiam.Grant {
	checkGrantArgs("SparkLambda.GrantReadWriteTable", bucket, prefix, "tables/")
	return s.grantData(func(to dataAccess) awsiam.Grant { return grantReadWritePrefix(to.role, bucket, prefix) })
}

// GrantGlueDatabase lets the function use the Glue Data Catalog database databaseName and its tables (and no
// other database) in the stack's account and region, and lets it reach the Glue API from its VPC: through a Glue
// interface endpoint when the construct created the VPC (isolated subnets have no other route) or
// AddGlueEndpoint is set, otherwise with egress HTTPS to any IPv4 address through the user's VPC route. The EMR
// Serverless job role of RouteLargeInputsTo gets the same grant (and its application the same route to Glue),
// whether it was routed before or after this call.
//
// It panics with a *PropsError naming GrantGlueDatabase when databaseName is not a Glue database name (1–255
// lowercase letters, digits or '_').
func (s *SparkLambda) GrantGlueDatabase(databaseName string) awsiam.Grant {
	checkGlueDatabaseArg("SparkLambda.GrantGlueDatabase", databaseName)
	return s.grantData(func(to dataAccess) awsiam.Grant { return grantGlueDatabase(to, databaseName) })
}

// The grants themselves, on a role: every construct of the package (SparkLambda, SparkEmrServerless) grants data
// access through these, so both engines get exactly the same statements.

// grantReadPrefix lets role list and read objects under prefix + "*" in bucket (the CDK's bucket read grant, with
// kms:Decrypt on the bucket's key).
func grantReadPrefix(role awsiam.IRole, bucket awss3.IBucket, prefix string) awsiam.Grant {
	grant := bucket.GrantRead(role, jsii.String(prefix+"*"))
	suppressS3PrefixGrant(role, prefix) // after the grant: the role's policy may not exist before it
	return grant
}

// grantReadWritePrefix lets role read, write and delete objects under prefix + "*" in bucket (the CDK's bucket
// read/write grant, with the encrypt/decrypt grant on the bucket's key).
func grantReadWritePrefix(role awsiam.IRole, bucket awss3.IBucket, prefix string) awsiam.Grant {
	grant := bucket.GrantReadWrite(role, jsii.String(prefix+"*"))
	suppressS3PrefixGrant(role, prefix) // after the grant: the role's policy may not exist before it
	if key := bucket.EncryptionKey(); key != nil {
		suppressKmsKeyGrant(role, key, "reading and writing objects in bucket "+*bucket.Node().Path())
	}
	return grant
}

// checkGlueDatabaseArg panics with a *PropsError naming method when databaseName is not a Glue database name.
func checkGlueDatabaseArg(method, databaseName string) {
	if !glueNamePattern.MatchString(databaseName) {
		panic(&PropsError{Construct: method, Problems: []string{fmt.Sprintf(
			"databaseName %q is invalid: use 1-255 lowercase letters, digits or '_' (Glue's naming rule)", databaseName)}})
	}
}

// glueTableActions are what Iceberg's GlueCatalog and Hudi/Delta catalog sync call on a database and its tables.
var glueTableActions = []string{
	"glue:GetDatabase", "glue:GetDatabases",
	"glue:GetTable", "glue:GetTables", "glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable",
	"glue:GetPartition", "glue:GetPartitions", "glue:BatchCreatePartition", "glue:BatchDeletePartition",
	"glue:CreatePartition", "glue:UpdatePartition", "glue:DeletePartition", "glue:BatchGetPartition",
}

// grantGlueDatabase lets to.role use databaseName and its tables through glueTableActions (catalog, database and
// table/databaseName/* ARNs of the stack's account and region) and opens to.network to the Glue API.
func grantGlueDatabase(to dataAccess, databaseName string) awsiam.Grant {
	stack := awscdk.Stack_Of(to.scope)
	arn := func(resource string) *string {
		return stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("glue"), Resource: jsii.String(resource),
			ArnFormat: awscdk.ArnFormat_NO_RESOURCE_NAME})
	}
	if to.network != nil {
		to.network.allowGlue()
	}
	grant := awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee: to.role,
		Actions: jsii.Strings(glueTableActions...),
		ResourceArns: &[]*string{
			arn("catalog"),
			arn("database/" + databaseName),
			arn("table/" + databaseName + "/*"),
		},
	})
	suppressGlueTables(to.role, databaseName) // after the grant: the role's policy may not exist before it
	return grant
}

// grantReadObject lets role read one object, bucketName/key, with GetObject (HeadObject needs the same permission)
// in a statement sid of its own, and decrypt it (kms:Decrypt only, no wildcard action) when bucket, the user's
// bucket the object is in, has a KMS key (nil: an asset, or a bucket without one).
func grantReadObject(role awsiam.IRole, sid string, bucketName, key *string, bucket awss3.IBucket) {
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:     jsii.String(sid),
		Actions: jsii.Strings("s3:GetObject"),
		Resources: jsii.Strings(*awscdk.Fn_Join(jsii.String(""), &[]*string{
			jsii.String("arn:"), awscdk.Aws_PARTITION(), jsii.String(":s3:::"), bucketName, jsii.String("/"), key,
		})),
	}))
	if bucket != nil && bucket.EncryptionKey() != nil {
		bucket.EncryptionKey().GrantDecrypt(role)
	}
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

// grantReadScript lets the handler (and every job role routed from the function) read the script object only, and
// decrypt it when scriptBucket, the user's bucket, has a KMS key. On a job role the statement id names the function
// (statement ids are unique within a policy, and one job role may run the scripts of several functions).
func (s *SparkLambda) grantReadScript(scriptBucket awss3.IBucket) {
	s.grantData(func(to dataAccess) awsiam.Grant {
		sid := "ReadSparkScript"
		if !to.own {
			sid += sidSafe(*awscdk.Names_UniqueId(s.Construct))
		}
		grantReadObject(to.role, sid, s.ScriptBucketName, s.ScriptKey, scriptBucket)
		return nil
	})
}

// sidSafe keeps the letters and digits of id (a policy statement id is alphanumeric).
func sidSafe(id string) string {
	return regexp.MustCompile(`[^A-Za-z0-9]`).ReplaceAllString(id, "")
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
func grantLockTable(role awsiam.IRole, table awsdynamodb.Table, key awskms.IKey) awsiam.Grant {
	grant := awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      role,
		Actions:      jsii.Strings(lockTableActions...),
		ResourceArns: &[]*string{table.TableArn()},
	})
	if key != nil {
		key.GrantEncryptDecrypt(role)
		suppressKmsKeyGrant(role, key, "the commit-coordination lock table "+*table.Node().Path())
	}
	return grant
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
