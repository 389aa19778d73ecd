package main

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/zwrm/secrets/internal/httpapi"
)

// accessLogFormat is the API's access log line: who asked for which route
// and how it went. Never a header (Authorization included), a query string,
// a path with its parameters, or a body.
func accessLogFormat() string {
	fields := map[string]string{
		"requestId":          "$context.requestId",
		"time":               "$context.requestTime",
		"sourceIp":           "$context.identity.sourceIp",
		"userAgent":          "$context.identity.userAgent",
		"method":             "$context.httpMethod",
		"routeKey":           "$context.routeKey",
		"protocol":           "$context.protocol",
		"status":             "$context.status",
		"responseLength":     "$context.responseLength",
		"responseLatency":    "$context.responseLatency",
		"integrationStatus":  "$context.integrationStatus",
		"integrationLatency": "$context.integrationLatency",
		"integrationError":   "$context.integrationErrorMessage",
		"authorizerError":    "$context.authorizer.error",
		"org":                "$context.authorizer.org",
		"tokenId":            "$context.authorizer.token_id",
		"iamCaller":          "$context.identity.userArn",
	}
	b, err := json.Marshal(fields) // keys sorted: a stable template
	if err != nil {
		panic(err)
	}
	return string(b)
}

// newAPI makes the HTTP API: one route per httpapi route, to the function
// that serves it, authorized as the route table says.
func newAPI(stack awscdk.Stack, p SecretsStackProps, fns map[string]awslambda.Function, retention awslogs.RetentionDays) (awsapigatewayv2.HttpApi, awsapigatewayv2.HttpStage) {
	var cors *awsapigatewayv2.CorsPreflightOptions
	if p.UIOrigin != "" {
		cors = &awsapigatewayv2.CorsPreflightOptions{
			AllowOrigins: jsii.Strings(p.UIOrigin),
			AllowMethods: &[]awsapigatewayv2.CorsHttpMethod{
				awsapigatewayv2.CorsHttpMethod_GET, awsapigatewayv2.CorsHttpMethod_POST, awsapigatewayv2.CorsHttpMethod_PATCH,
				awsapigatewayv2.CorsHttpMethod_PUT, awsapigatewayv2.CorsHttpMethod_DELETE,
			},
			AllowHeaders:  jsii.Strings("Authorization", "Content-Type", "X-Request-Id"),
			ExposeHeaders: jsii.Strings("X-Request-Id"),
			MaxAge:        awscdk.Duration_Hours(jsii.Number(1)),
		}
	}
	api := awsapigatewayv2.NewHttpApi(stack, jsii.String("Api"), &awsapigatewayv2.HttpApiProps{
		ApiName:            jsii.String("zwrm-secrets-" + p.Stage),
		Description:        jsii.String("zwrm secrets API v1 (" + p.Stage + ")"),
		CorsPreflight:      cors,
		CreateDefaultStage: jsii.Bool(false),
	})

	var mapping *awsapigatewayv2.DomainMappingOptions
	if d := p.CustomDomain; d != nil {
		dn := awsapigatewayv2.NewDomainName(stack, jsii.String("Domain"), &awsapigatewayv2.DomainNameProps{
			DomainName:     jsii.String(d.Name),
			Certificate:    awscertificatemanager.Certificate_FromCertificateArn(stack, jsii.String("Certificate"), jsii.String(d.CertificateARN)),
			SecurityPolicy: awsapigatewayv2.SecurityPolicy_TLS_1_2,
		})
		mapping = &awsapigatewayv2.DomainMappingOptions{DomainName: dn}
		awscdk.NewCfnOutput(stack, jsii.String("CustomDomainTarget"), &awscdk.CfnOutputProps{
			Value:       dn.RegionalDomainName(),
			Description: jsii.String("Point a CNAME (or alias) for " + d.Name + " here"),
		})
		awscdk.NewCfnOutput(stack, jsii.String("CustomDomainUrl"), &awscdk.CfnOutputProps{
			Value: jsii.String("https://" + d.Name + "/"),
		})
	}
	stage := awsapigatewayv2.NewHttpStage(stack, jsii.String("Stage"), &awsapigatewayv2.HttpStageProps{
		HttpApi:    api,
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		Throttle: &awsapigatewayv2.ThrottleSettings{
			RateLimit:  jsii.Number(float64(p.ThrottleRateLimit)),
			BurstLimit: jsii.Number(float64(p.ThrottleBurstLimit)),
		},
		DomainMapping: mapping,
	})
	accessLogs := awslogs.NewLogGroup(stack, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		Retention:     retention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	// The L2 stage takes access log settings only as an interface value;
	// the underlying resource takes them plainly.
	cfnStage := stage.Node().DefaultChild().(awsapigatewayv2.CfnStage)
	cfnStage.SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: accessLogs.LogGroupArn(),
		Format:         jsii.String(accessLogFormat()),
	})

	authorizer := awsapigatewayv2authorizers.NewHttpLambdaAuthorizer(jsii.String("Authorizer"), fns["authorizer"], &awsapigatewayv2authorizers.HttpLambdaAuthorizerProps{
		AuthorizerName:  jsii.String("zwrm-bearer"),
		ResponseTypes:   &[]awsapigatewayv2authorizers.HttpLambdaResponseType{awsapigatewayv2authorizers.HttpLambdaResponseType_SIMPLE},
		IdentitySource:  jsii.Strings("$request.header.Authorization"),
		ResultsCacheTtl: awscdk.Duration_Seconds(jsii.Number(p.AuthorizerCacheTTL.Seconds())),
	})
	iam := awsapigatewayv2authorizers.NewHttpIamAuthorizer()

	integrations := map[httpapi.Function]awsapigatewayv2integrations.HttpLambdaIntegration{}
	for _, r := range httpapi.Routes() {
		integ, ok := integrations[r.Function]
		if !ok {
			fn, found := fns[string(r.Function)]
			if !found {
				panic("NewSecretsStack: route " + r.Method + " " + r.Pattern + " names function " + string(r.Function) + ", which the stack does not define")
			}
			integ = awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String(httpapi.Title(string(r.Function))+"Integration"), fn, &awsapigatewayv2integrations.HttpLambdaIntegrationProps{
				PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0(),
			})
			integrations[r.Function] = integ
		}
		opts := &awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(r.Pattern),
			Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod(r.Method)},
			Integration: integ,
		}
		switch r.Auth {
		case httpapi.AuthBearer:
			opts.Authorizer = authorizer
		case httpapi.AuthIAM:
			opts.Authorizer = iam
		case httpapi.AuthNone:
			// No authorizer: API Gateway lets the request through.
		default:
			panic(fmt.Sprintf("NewSecretsStack: route %s %s has an authorization kind the stack does not know (%d)", r.Method, r.Pattern, r.Auth))
		}
		routes := api.AddRoutes(opts)
		if r.Auth == httpapi.AuthNone {
			for _, route := range *routes {
				cdknag.NagSuppressions_AddResourceSuppressions(route, &[]*cdknag.NagPackSuppression{{
					Id: jsii.String("AwsSolutions-APIG4"),
					Reason: jsii.String("Public by design (httpapi.AuthNone): " + r.Method + " " + r.Pattern +
						" answers a health check or the OpenAPI document, reads no data and is throttled with the stage."),
				}}, jsii.Bool(true))
			}
		}
	}
	return api, stage
}
