package sparklambda

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// network is what a Spark workload (the function, or an EMR Serverless application) is attached to: nothing (no
// VPC), or a VPC, its subnets and a security group of its own.
type network struct {
	vpc           awsec2.IVpc
	subnets       *awsec2.SubnetSelection
	securityGroup awsec2.SecurityGroup
	// label names the workload in the security group's description ("Spark Lambda", "Spark EMR Serverless").
	label string
	// created: the construct created the VPC (isolated subnets only, so every AWS service needs an endpoint).
	created bool
	// egressTo names the destinations of the security group's egress rules, in the order they were added; the
	// group's description is built from it, so that it stays true for every rule set.
	egressTo []string
	// addGlueEndpoint: a Glue interface endpoint goes into the VPC once a Glue database is granted (always for a
	// created VPC, on request for the user's VPC).
	addGlueEndpoint   bool
	glueReachable     bool // the security group already lets the workload reach the Glue API
	dynamoDBReachable bool // the security group already lets the workload reach DynamoDB
}

// networkSpec is what a construct asks of its network: the network props of SparkLambdaProps (or of
// SparkEmrServerlessProps), resolved. Validation has already rejected conflicting options.
type networkSpec struct {
	label                                               string // see network.label
	noVpc                                               bool
	vpc                                                 awsec2.IVpc
	subnets                                             *awsec2.SubnetSelection
	addS3Endpoint, addDynamoDBEndpoint, addGlueEndpoint bool
	maxAzs                                              int                   // AZs of a created VPC
	encryptionKey                                       awskms.IKey           // a created VPC's flow log group
	retention                                           awslogs.RetentionDays // a created VPC's flow log group
	usesDynamoDB                                        bool                  // reach DynamoDB from the start (a lock table)
}

// networkSpec resolves the network props of a SparkLambda.
func (p *SparkLambdaProps) networkSpec(retention awslogs.RetentionDays) networkSpec {
	return networkSpec{label: "Spark Lambda", noVpc: p.NoVpc, vpc: p.Vpc, subnets: p.VpcSubnets,
		addS3Endpoint: p.AddS3Endpoint, addDynamoDBEndpoint: p.AddDynamoDBEndpoint, addGlueEndpoint: p.AddGlueEndpoint,
		maxAzs: p.maxAzs(), encryptionKey: p.EncryptionKey, retention: retention,
		usesDynamoDB: p.commitCoordination() == CommitCoordinationDynamoDB}
}

// newNetwork builds the network that spec asks for.
func newNetwork(scope constructs.Construct, spec networkSpec) *network {
	if spec.noVpc {
		return &network{label: spec.label}
	}
	net := &network{vpc: spec.vpc, subnets: spec.subnets, addGlueEndpoint: spec.addGlueEndpoint, label: spec.label}
	if net.vpc == nil {
		net.addGlueEndpoint = true
		net.created = true
		net.vpc = newIsolatedVpc(scope, spec)
		net.subnets = &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED}
	} else {
		if spec.addS3Endpoint {
			net.addGatewayEndpoint(s3EndpointID, awsec2.GatewayVpcEndpointAwsService_S3())
		}
		if spec.addDynamoDBEndpoint {
			net.addGatewayEndpoint(dynamoDBEndpointID, awsec2.GatewayVpcEndpointAwsService_DYNAMODB())
		}
	}

	net.securityGroup = awsec2.NewSecurityGroup(scope, jsii.String("SecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              net.vpc,
		Description:      jsii.String(securityGroupDescription(net.label, nil)),
		AllowAllOutbound: jsii.Bool(false),
	})
	net.addEgress(awsec2.Peer_PrefixList(managedPrefixListID(scope, "s3")), "the S3 prefix list",
		"HTTPS to Amazon S3 (managed prefix list, through the gateway endpoint)")
	if spec.usesDynamoDB {
		net.allowDynamoDB()
	}
	return net
}

// allowDynamoDB lets the workload reach DynamoDB (the commit-coordination lock table): egress HTTPS to DynamoDB's
// managed prefix list, and, in a VPC the construct created, a DynamoDB gateway endpoint (its isolated subnets have no
// other route). The rule is allowed whether or not the construct added the endpoint: the user's VPC may reach
// DynamoDB through its own gateway endpoint or a NAT gateway, and both lead to the addresses of this prefix list.
// Nothing without a VPC, or when DynamoDB is already reachable.
func (net *network) allowDynamoDB() {
	if net.vpc == nil || net.dynamoDBReachable {
		return
	}
	net.dynamoDBReachable = true
	if net.created && net.vpc.Node().TryFindChild(jsii.String("DynamoDB")) == nil {
		// A VPC created without the lock table's endpoint (newIsolatedVpc names its endpoints by service).
		net.addGatewayEndpoint(dynamoDBEndpointID, awsec2.GatewayVpcEndpointAwsService_DYNAMODB())
	}
	net.addEgress(awsec2.Peer_PrefixList(managedPrefixListID(net.securityGroup, "dynamodb")), "the DynamoDB prefix list",
		"HTTPS to Amazon DynamoDB (managed prefix list): the commit-coordination lock table")
}

// addEgress adds an egress rule for HTTPS (443) to peer and rewrites the security group's description so that it
// names every destination (destination is the short name the description uses, ruleDescription the rule's own).
func (net *network) addEgress(peer awsec2.IPeer, destination, ruleDescription string) {
	net.securityGroup.AddEgressRule(peer, awsec2.Port_Tcp(jsii.Number(443)), jsii.String(ruleDescription), jsii.Bool(false))
	net.noteEgress(destination)
}

// noteEgress records an egress destination and rewrites the security group's description from all of them.
func (net *network) noteEgress(destination string) {
	net.egressTo = append(net.egressTo, destination)
	net.securityGroup.Node().DefaultChild().(awsec2.CfnSecurityGroup).SetGroupDescription(
		jsii.String(securityGroupDescription(net.label, net.egressTo)))
}

// securityGroupDescription describes the security group of the workload label from its egress destinations. EC2
// allows only a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$* in a group description (no apostrophe), up to 255
// characters.
func securityGroupDescription(label string, destinations []string) string {
	if len(destinations) == 0 {
		return label + ": no inbound; no outbound"
	}
	return label + ": no inbound; outbound HTTPS (443) only, to " + strings.Join(destinations, ", ")
}

// addGatewayEndpoint adds a gateway endpoint for service to the user's VPC under id, once per VPC however many
// SparkLambdas ask for it, and makes sure it serves the function's subnets. The first caller creates it on the
// route tables of every private (with egress) and isolated subnet of the VPC plus the function's own subnets, so
// that a later SparkLambda in another subnet group of the VPC is routed too; a later caller whose subnets use other
// route tables (e.g. subnets selected one by one) adds those route tables to the endpoint.
func (net *network) addGatewayEndpoint(id string, service awsec2.IGatewayVpcEndpointService) {
	endpoint, ok := net.vpc.Node().TryFindChild(jsii.String(id)).(awsec2.GatewayVpcEndpoint)
	if !ok {
		selections := []*awsec2.SubnetSelection{}
		if len(*net.vpc.PrivateSubnets()) > 0 {
			selections = append(selections, &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS})
		}
		if len(*net.vpc.IsolatedSubnets()) > 0 {
			selections = append(selections, &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED})
		}
		if net.subnets != nil {
			selections = append(selections, net.subnets)
		}
		endpoint = net.vpc.AddGatewayEndpoint(jsii.String(id), &awsec2.GatewayVpcEndpointOptions{
			Service: service,
			Subnets: &selections,
		})
	}
	cfn := endpoint.Node().DefaultChild().(awsec2.CfnVPCEndpoint)
	routeTables := []*string{}
	seen := map[string]bool{}
	if current := cfn.RouteTableIds(); current != nil {
		for _, id := range *current {
			seen[*id] = true
			routeTables = append(routeTables, id)
		}
	}
	added := false
	for _, subnet := range *net.vpc.SelectSubnets(net.subnets).Subnets {
		id := subnet.RouteTable().RouteTableId()
		if id == nil || *id == "" || seen[*id] {
			continue
		}
		seen[*id] = true
		routeTables = append(routeTables, id)
		added = true
	}
	if added {
		cfn.SetRouteTableIds(&routeTables)
	}
}

// Construct ids of the endpoints the constructs add to a VPC (children of the VPC, shared by every SparkLambda in
// it).
const (
	s3EndpointID       = "SparkLambdaS3Endpoint"
	dynamoDBEndpointID = "SparkLambdaDynamoDBEndpoint"
	glueEndpointID     = "SparkLambdaGlueEndpoint"
)

// allowGlue lets the workload reach the Glue API: through a Glue interface endpoint in the VPC (one per VPC, added
// when the construct created the VPC or AddGlueEndpoint asked for it), or else through whatever route the user's VPC
// has to Glue (a NAT gateway or the team's own endpoint), with egress HTTPS to any IPv4 address.
func (net *network) allowGlue() {
	if net.vpc == nil || net.glueReachable {
		return
	}
	net.glueReachable = true
	if !net.addGlueEndpoint {
		net.addEgress(awsec2.Peer_AnyIpv4(), "any IPv4 address (the Glue API through the VPC route)",
			"HTTPS to the Glue API through the VPC's NAT gateway or Glue endpoint")
		return
	}
	endpoint, ok := net.vpc.Node().TryFindChild(jsii.String(glueEndpointID)).(awsec2.InterfaceVpcEndpoint)
	if !ok {
		net.requireCidrBlock()
		// Private DNS (the default) makes this endpoint the Glue API for the whole VPC, so it must admit every
		// workload of the VPC, not just this function: Open admits HTTPS from the VPC's (primary) CIDR block.
		// Subnets: the CDK's default selection, one subnet per Availability Zone (an interface endpoint is
		// reachable from every subnet of the VPC; one ENI per AZ keeps the traffic in the AZ).
		endpoint = net.vpc.AddInterfaceEndpoint(jsii.String(glueEndpointID), &awsec2.InterfaceVpcEndpointOptions{
			Service: awsec2.InterfaceVpcEndpointAwsService_GLUE(),
			Open:    jsii.Bool(true),
		})
		suppressVpcCidrIngress(endpoint)
	}
	// The function's security group allows no egress by default: this adds HTTPS to the endpoint's group.
	net.securityGroup.Connections().AllowTo(endpoint, awsec2.Port_Tcp(jsii.Number(443)),
		jsii.String(net.label+" to the Glue API (interface endpoint)"))
	net.noteEgress("the Glue endpoint")
}

// requireCidrBlock panics with a *PropsError when the VPC does not know its CIDR block (Vpc_FromVpcAttributes without
// VpcCidrBlock), which the Glue endpoint's ingress rule needs; the CDK would otherwise fail inside jsii.
func (net *network) requireCidrBlock() {
	known := func() (known bool) {
		defer func() {
			if recover() != nil {
				known = false
			}
		}()
		return net.vpc.VpcCidrBlock() != nil
	}()
	if !known {
		panic(&PropsError{Construct: "SparkLambda", Problems: []string{fmt.Sprintf("AddGlueEndpoint is true but Vpc %s "+
			"has no CIDR block: the Glue endpoint admits HTTPS from the VPC's CIDR (its private DNS serves every "+
			"workload of the VPC); import the VPC with VpcCidrBlock set (or with awsec2.Vpc_FromLookup), or leave "+
			"AddGlueEndpoint false to reach Glue through the VPC's own route", *net.vpc.Node().Path())}})
	}
}

// newIsolatedVpc creates a VPC with isolated subnets only (no internet or NAT gateway), an S3 gateway endpoint so
// the workload reaches S3 privately (and a DynamoDB one when spec.usesDynamoDB: the lock table; allowDynamoDB adds it
// later otherwise), and a flow log of all traffic to CloudWatch Logs.
func newIsolatedVpc(scope constructs.Construct, spec networkSpec) awsec2.IVpc {
	flowLogGroup := awslogs.NewLogGroup(scope, jsii.String("FlowLogGroup"), &awslogs.LogGroupProps{
		Retention:     spec.retention,
		EncryptionKey: spec.encryptionKey,
	})
	endpoints := map[string]*awsec2.GatewayVpcEndpointOptions{
		"S3": {Service: awsec2.GatewayVpcEndpointAwsService_S3()},
	}
	if spec.usesDynamoDB {
		endpoints["DynamoDB"] = &awsec2.GatewayVpcEndpointOptions{Service: awsec2.GatewayVpcEndpointAwsService_DYNAMODB()}
	}
	return awsec2.NewVpc(scope, jsii.String("Vpc"), &awsec2.VpcProps{
		MaxAzs:      jsii.Number(float64(spec.maxAzs)),
		NatGateways: jsii.Number(0),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{{
			Name:       jsii.String("spark-isolated"),
			SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED,
			CidrMask:   jsii.Number(24),
		}},
		GatewayEndpoints: &endpoints,
		FlowLogs: &map[string]*awsec2.FlowLogOptions{
			"FlowLog": {
				Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(flowLogGroup, nil),
				TrafficType: awsec2.FlowLogTrafficType_ALL,
			},
		},
	})
}

// managedPrefixListID returns the id of the AWS-managed prefix list of service ("s3" or "dynamodb") in the stack's
// region (com.amazonaws.<region>.<service>). CloudFormation has no attribute or intrinsic for it and a context
// lookup would tie the stack to an account, so an AwsCustomResource (the CDK's own construct) asks EC2
// DescribePrefixLists at deploy time. One lookup per service is shared by every SparkLambda in a stack.
func managedPrefixListID(scope constructs.Construct, service string) *string {
	stack := awscdk.Stack_Of(scope)
	names := map[string]string{"s3": "S3", "dynamodb": "DynamoDB"}
	id := "SparkLambda" + names[service] + "PrefixList"
	lookup, ok := stack.Node().TryFindChild(jsii.String(id)).(customresources.AwsCustomResource)
	if !ok {
		call := &customresources.AwsSdkCall{
			Service: jsii.String("EC2"),
			Action:  jsii.String("describePrefixLists"),
			Parameters: map[string]any{
				"Filters": []map[string]any{{
					"Name":   "prefix-list-name",
					"Values": []*string{jsii.String(fmt.Sprintf("com.amazonaws.%s.%s", *stack.Region(), service))},
				}},
			},
			PhysicalResourceId: customresources.PhysicalResourceId_Of(jsii.String(service + "-prefix-list")),
			OutputPaths:        jsii.Strings("PrefixLists.0.PrefixListId"),
		}
		lookup = customresources.NewAwsCustomResource(stack, jsii.String(id), &customresources.AwsCustomResourceProps{
			OnCreate:            call,
			OnUpdate:            call,
			InstallLatestAwsSdk: jsii.Bool(false),
			// DescribePrefixLists supports no resource-level permissions, so "*" is the narrowest resource.
			Policy: customresources.AwsCustomResourcePolicy_FromSdkCalls(&customresources.SdkCallsPolicyOptions{
				Resources: customresources.AwsCustomResourcePolicy_ANY_RESOURCE(),
			}),
		})
		suppressAwsCustomResource(stack, lookup)
	}
	return lookup.GetResponseField(jsii.String("PrefixLists.0.PrefixListId"))
}
