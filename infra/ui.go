package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfront"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfrontorigins"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3deployment"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/zwrm/secrets/internal/webui"
)

// uiAPIPaths are the paths CloudFront sends to the API, as webui.Mount does
// locally; everything else is the UI.
var uiAPIPaths = []string{"/v1/*", "/healthz"}

// newUI serves the web UI from a private S3 bucket through a CloudFront
// distribution that also sends the API's paths to the HTTP API: one origin
// for page and API, as `zwrm dev` serves them, so the page's CSP can say
// connect-src 'self' and no CORS is involved.
//
// Static files at the edge rather than a function: they cost no Lambda
// invocation, and the CSP needs no nonce, so nothing has to be rendered.
func newUI(stack awscdk.Stack, p SecretsStackProps, api awsapigatewayv2.HttpApi, retention awslogs.RetentionDays) awscloudfront.Distribution {
	// The access logs of the distribution (cloudfront/) and of the UI
	// bucket (s3/). CloudFront's standard logs are delivered with an ACL,
	// so this bucket keeps ACLs (objects still belong to the bucket
	// owner). Kept when the stack is deleted: CloudFormation cannot delete
	// a bucket that holds objects. (It logs no access of its own, which
	// would write into itself; cdk-nag accepts a log bucket as it is.)
	logs := awss3.NewBucket(stack, jsii.String("AccessLogs"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		MinimumTLSVersion: jsii.Number(1.2),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_PREFERRED,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Expiration:                          awscdk.Duration_Days(jsii.Number(float64(p.LogRetentionDays))),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1)),
		}},
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})

	// The UI's files: private, reachable only through the distribution
	// (origin access control), and kept when the stack is deleted, for the
	// same reason as the logs.
	bucket := awss3.NewBucket(stack, jsii.String("UiBucket"), &awss3.BucketProps{
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:             awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:             jsii.Bool(true),
		MinimumTLSVersion:      jsii.Number(1.2),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		ServerAccessLogsBucket: logs,
		ServerAccessLogsPrefix: jsii.String("s3/ui/"),
		RemovalPolicy:          awscdk.RemovalPolicy_RETAIN,
	})

	// The UI's files say how long they keep (webui.PageCacheControl,
	// webui.AssetCacheControl), and the edge follows them: a minimum TTL
	// of 0 is what lets "no-store" on index.html keep it out of the cache.
	files := awscloudfront.NewCachePolicy(stack, jsii.String("UiCachePolicy"), &awscloudfront.CachePolicyProps{
		Comment:                    jsii.String("zwrm secrets UI (" + p.Stage + "): as each file's Cache-Control says"),
		MinTtl:                     awscdk.Duration_Seconds(jsii.Number(0)),
		DefaultTtl:                 awscdk.Duration_Days(jsii.Number(1)),
		MaxTtl:                     awscdk.Duration_Days(jsii.Number(365)),
		HeaderBehavior:             awscloudfront.CacheHeaderBehavior_None(),
		CookieBehavior:             awscloudfront.CacheCookieBehavior_None(),
		QueryStringBehavior:        awscloudfront.CacheQueryStringBehavior_None(),
		EnableAcceptEncodingGzip:   jsii.Bool(true),
		EnableAcceptEncodingBrotli: jsii.Bool(true),
	})
	security, custom := uiResponseHeaders()
	headers := awscloudfront.NewResponseHeadersPolicy(stack, jsii.String("UiHeaders"), &awscloudfront.ResponseHeadersPolicyProps{
		// Policy names are account-wide: the region keeps one stage in two
		// regions from colliding.
		ResponseHeadersPolicyName: jsii.String("zwrm-secrets-" + p.Stage + "-ui-headers-" + *stack.Region()),
		Comment:                   jsii.String("zwrm secrets UI (" + p.Stage + "): the headers of internal/webui"),
		SecurityHeadersBehavior:   security,
		CustomHeadersBehavior:     custom,
	})

	// The API: never cached (its answers depend on the Authorization header,
	// which is in no cache key, and carry Cache-Control: no-store), every
	// viewer header but Host forwarded (Authorization included, which the
	// authorizer reads; API Gateway needs its own Host), and the query
	// string. HTTPS only, without a redirect: a client that sent a token
	// over plain HTTP should fail, not be redirected after the fact.
	apiDomain := awscdk.Fn_Select(jsii.Number(2), awscdk.Fn_Split(jsii.String("/"), api.ApiEndpoint(), nil))
	apiOrigin := awscloudfrontorigins.NewHttpOrigin(apiDomain, &awscloudfrontorigins.HttpOriginProps{
		ProtocolPolicy:     awscloudfront.OriginProtocolPolicy_HTTPS_ONLY,
		OriginSslProtocols: &[]awscloudfront.OriginSslPolicy{awscloudfront.OriginSslPolicy_TLS_V1_2},
	})
	apiBehavior := func(methods awscloudfront.AllowedMethods) *awscloudfront.BehaviorOptions {
		return &awscloudfront.BehaviorOptions{
			Origin:               apiOrigin,
			AllowedMethods:       methods,
			CachePolicy:          awscloudfront.CachePolicy_CACHING_DISABLED(),
			OriginRequestPolicy:  awscloudfront.OriginRequestPolicy_ALL_VIEWER_EXCEPT_HOST_HEADER(),
			ViewerProtocolPolicy: awscloudfront.ViewerProtocolPolicy_HTTPS_ONLY,
		}
	}
	// CloudFront caches some error answers (400, 403, 404, 405, 414, 5xx)
	// for 10 s whatever the cache policy says; the API's depend on who
	// asks, so none are cached.
	var noErrorCaching []*awscloudfront.ErrorResponse
	for _, status := range []float64{400, 403, 404, 405, 414, 500, 501, 502, 503, 504} {
		noErrorCaching = append(noErrorCaching, &awscloudfront.ErrorResponse{
			HttpStatus: jsii.Number(status),
			Ttl:        awscdk.Duration_Seconds(jsii.Number(0)),
		})
	}

	dist := awscloudfront.NewDistribution(stack, jsii.String("UiDistribution"), &awscloudfront.DistributionProps{
		Comment:           jsii.String("zwrm secrets (" + p.Stage + "): the web UI, and the API on the same origin"),
		DefaultRootObject: jsii.String("index.html"),
		DefaultBehavior: &awscloudfront.BehaviorOptions{
			Origin:                awscloudfrontorigins.S3BucketOrigin_WithOriginAccessControl(bucket, nil),
			AllowedMethods:        awscloudfront.AllowedMethods_ALLOW_GET_HEAD(),
			CachePolicy:           files,
			ResponseHeadersPolicy: headers,
			ViewerProtocolPolicy:  awscloudfront.ViewerProtocolPolicy_REDIRECT_TO_HTTPS,
			Compress:              jsii.Bool(true),
		},
		AdditionalBehaviors: &map[string]*awscloudfront.BehaviorOptions{
			uiAPIPaths[0]: apiBehavior(awscloudfront.AllowedMethods_ALLOW_ALL()),
			uiAPIPaths[1]: apiBehavior(awscloudfront.AllowedMethods_ALLOW_GET_HEAD()),
		},
		ErrorResponses: &noErrorCaching,
		HttpVersion:    awscloudfront.HttpVersion_HTTP2_AND_3,
		PriceClass:     awscloudfront.PriceClass_PRICE_CLASS_100,
		EnableLogging:  jsii.Bool(true),
		LogBucket:      logs,
		LogFilePrefix:  jsii.String("cloudfront/"),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(dist, &[]*cdknag.NagPackSuppression{
		{
			Id: jsii.String("AwsSolutions-CFR1"),
			Reason: jsii.String("No geo restriction: the team and its workloads may be anywhere; every API call " +
				"but the health check and the API description needs a token, and the UI holds no data."),
		},
		{
			Id: jsii.String("AwsSolutions-CFR2"),
			Reason: jsii.String("No AWS WAF web ACL: the API throttles per stage and authorizes every data call, " +
				"the UI is static files; a web ACL would add a fixed monthly cost larger than the rest of the stack."),
		},
		{
			Id: jsii.String("AwsSolutions-CFR4"),
			Reason: jsii.String("The distribution uses the default *.cloudfront.net certificate, with which CloudFront " +
				"cannot set a minimum viewer TLS version; browsers negotiate TLS 1.2 or 1.3 with it."),
		},
	}, nil)

	newUIDeployment(stack, p, bucket, retention)
	return dist
}

// uiResponseHeaders turns webui.SecurityHeaders into CloudFront's terms: the
// headers CloudFront knows as security headers, and the rest as custom
// headers. All override what the origin sends. HSTS is added, since
// CloudFront serves only HTTPS (zwrm dev serves plain HTTP on loopback).
func uiResponseHeaders() (*awscloudfront.ResponseSecurityHeadersBehavior, *awscloudfront.ResponseCustomHeadersBehavior) {
	security := &awscloudfront.ResponseSecurityHeadersBehavior{
		StrictTransportSecurity: &awscloudfront.ResponseHeadersStrictTransportSecurity{
			AccessControlMaxAge: awscdk.Duration_Days(jsii.Number(365)),
			Override:            jsii.Bool(true),
		},
	}
	var custom []*awscloudfront.ResponseCustomHeader
	hs := webui.SecurityHeaders()
	names := make([]string, 0, len(hs))
	for name := range hs {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		value := hs[name]
		switch name {
		case "Content-Security-Policy":
			security.ContentSecurityPolicy = &awscloudfront.ResponseHeadersContentSecurityPolicy{
				ContentSecurityPolicy: jsii.String(value), Override: jsii.Bool(true),
			}
		case "X-Content-Type-Options":
			if value != "nosniff" {
				panic(fmt.Sprintf("NewSecretsStack: CloudFront can only send X-Content-Type-Options: nosniff, not %q", value))
			}
			security.ContentTypeOptions = &awscloudfront.ResponseHeadersContentTypeOptions{Override: jsii.Bool(true)}
		case "X-Frame-Options":
			option, ok := map[string]awscloudfront.HeadersFrameOption{
				"DENY": awscloudfront.HeadersFrameOption_DENY, "SAMEORIGIN": awscloudfront.HeadersFrameOption_SAMEORIGIN,
			}[value]
			if !ok {
				panic(fmt.Sprintf("NewSecretsStack: CloudFront cannot send X-Frame-Options: %s", value))
			}
			security.FrameOptions = &awscloudfront.ResponseHeadersFrameOptions{FrameOption: option, Override: jsii.Bool(true)}
		case "Referrer-Policy":
			policy, ok := referrerPolicies[value]
			if !ok {
				panic(fmt.Sprintf("NewSecretsStack: CloudFront cannot send Referrer-Policy: %s", value))
			}
			security.ReferrerPolicy = &awscloudfront.ResponseHeadersReferrerPolicy{ReferrerPolicy: policy, Override: jsii.Bool(true)}
		case "Strict-Transport-Security", "X-XSS-Protection":
			panic("NewSecretsStack: " + name + " from internal/webui is not mapped to CloudFront's security headers")
		default:
			custom = append(custom, &awscloudfront.ResponseCustomHeader{
				Header: jsii.String(name), Value: jsii.String(value), Override: jsii.Bool(true),
			})
		}
	}
	return security, &awscloudfront.ResponseCustomHeadersBehavior{CustomHeaders: &custom}
}

var referrerPolicies = map[string]awscloudfront.HeadersReferrerPolicy{
	"no-referrer":                     awscloudfront.HeadersReferrerPolicy_NO_REFERRER,
	"no-referrer-when-downgrade":      awscloudfront.HeadersReferrerPolicy_NO_REFERRER_WHEN_DOWNGRADE,
	"origin":                          awscloudfront.HeadersReferrerPolicy_ORIGIN,
	"origin-when-cross-origin":        awscloudfront.HeadersReferrerPolicy_ORIGIN_WHEN_CROSS_ORIGIN,
	"same-origin":                     awscloudfront.HeadersReferrerPolicy_SAME_ORIGIN,
	"strict-origin":                   awscloudfront.HeadersReferrerPolicy_STRICT_ORIGIN,
	"strict-origin-when-cross-origin": awscloudfront.HeadersReferrerPolicy_STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
	"unsafe-url":                      awscloudfront.HeadersReferrerPolicy_UNSAFE_URL,
}

// newUIDeployment uploads the built UI (p.UIAssetDir) to the bucket: the
// content-hashed assets first, cached for good, then index.html, never
// cached, so that a new page never names an asset not yet there. Nothing
// is deleted (prune off): a tab opened before a deploy keeps loading the
// assets its page names.
//
// The upload runs in the CDK's custom-resource function (Python with the
// AWS CLI); its role is this stack's, so that it has no managed policy and
// writes only its own log group, and the CDK grants it read of the asset
// and read-write of this bucket.
func newUIDeployment(stack awscdk.Stack, p SecretsStackProps, bucket awss3.Bucket, retention awslogs.RetentionDays) {
	logs := awslogs.NewLogGroup(stack, jsii.String("UiDeploymentLogs"), &awslogs.LogGroupProps{
		Retention:     retention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	role := awsiam.NewRole(stack, jsii.String("UiDeploymentRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("zwrm secrets web UI upload (" + p.Stage + ")"),
	})
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("WriteOwnLogs"),
		Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
		Resources: &[]*string{logs.LogGroupArn()},
	}))
	// Without dist/.gitignore, which internal/webui never serves either, and
	// without the build's compressed copies (NAME.br, NAME.gz), which zwrm
	// dev serves by Accept-Encoding: here CloudFront compresses each file
	// itself (Compress, and both encodings in the cache policy's key).
	source := awss3deployment.Source_Asset(jsii.String(p.UIAssetDir), &awss3assets.AssetOptions{
		Exclude: jsii.Strings(".*", "*.br", "*.gz"),
	})
	deploy := func(id, cacheControl string, include, exclude []string) awss3deployment.BucketDeployment {
		props := &awss3deployment.BucketDeploymentProps{
			Sources:           &[]awss3deployment.ISource{source},
			DestinationBucket: bucket,
			CacheControl:      &[]awss3deployment.CacheControl{awss3deployment.CacheControl_FromString(jsii.String(cacheControl))},
			Exclude:           jsii.Strings(exclude...),
			Prune:             jsii.Bool(false),
			Role:              role,
			LogGroup:          logs,
			// The file list is not needed, and would grow the custom
			// resource's answer with every asset.
			OutputObjectKeys: jsii.Bool(false),
		}
		if len(include) > 0 {
			props.Include = jsii.Strings(include...)
		}
		return awss3deployment.NewBucketDeployment(stack, jsii.String(id), props)
	}
	assets := deploy("UiAssets", webui.AssetCacheControl, nil, []string{"index.html"})
	page := deploy("UiPage", webui.PageCacheControl, []string{"index.html"}, []string{"*"})
	page.Node().AddDependency(assets)
	// Both deployments run in one function, made by the first with its own
	// AWS CLI layer; the second makes a layer of its own that nothing uses.
	page.Node().TryRemoveChild(jsii.String("AwsCliLayer"))

	// That function is a singleton at the stack's root.
	handlers := 0
	for _, c := range *stack.Node().Children() {
		if strings.HasPrefix(*c.Node().Id(), "Custom::CDKBucketDeployment") {
			handlers++
			cdknag.NagSuppressions_AddResourceSuppressions(c, &[]*cdknag.NagPackSuppression{{
				Id: jsii.String("AwsSolutions-L1"),
				Reason: jsii.String("The CDK's BucketDeployment picks its handler's Python runtime to match the AWS CLI layer it " +
					"bundles; it moves with CDK upgrades, and the function runs only during deployments."),
			}}, jsii.Bool(true))
		}
	}
	if handlers != 1 {
		panic(fmt.Sprintf("NewSecretsStack: want one BucketDeployment handler at the stack's root, found %d", handlers))
	}

	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("The CDK's BucketDeployment grants its upload function s3:GetObject*, s3:GetBucket*, s3:List* " +
			"on the CDK asset bucket and read-write (s3:*Object*, s3:Abort*) on the UI bucket's objects; both buckets are named, " +
			"the wildcards are in the actions and object keys only."),
	}}, jsii.Bool(true))
}
