package main

import (
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
)

// extensionLayerZip is the Lambda extension's layer in the asset directory
// (`make lambdas`): extensions/zwrm-secrets, built for linux/arm64.
const extensionLayerZip = "zwrm-secrets-layer.zip"

// extensionDir is the extension's main, functions/extension: a layer, not
// a function of the stack.
const extensionDir = "extension"

// newExtensionLayer publishes the extension as a layer version that
// functions of any runtime on arm64 add to serve their secrets on
// localhost:2773 (docs/aws.md). The layer holds no secret and no
// configuration: each function names its endpoint, environment and
// credentials in its own environment.
func newExtensionLayer(stack awscdk.Stack, p SecretsStackProps) awslambda.LayerVersion {
	return awslambda.NewLayerVersion(stack, jsii.String("ExtensionLayer"), &awslambda.LayerVersionProps{
		Description:             jsii.String("zwrm secrets Lambda extension: the function's secrets on localhost:2773 (" + p.Stage + ")"),
		Code:                    awslambda.Code_FromAsset(jsii.String(filepath.Join(p.AssetDir, extensionLayerZip)), nil),
		CompatibleArchitectures: &[]awslambda.Architecture{awslambda.Architecture_ARM_64()},
		CompatibleRuntimes: &[]awslambda.Runtime{
			awslambda.Runtime_PROVIDED_AL2023(), awslambda.Runtime_PROVIDED_AL2(),
			awslambda.Runtime_NODEJS_20_X(), awslambda.Runtime_NODEJS_22_X(), awslambda.Runtime_NODEJS_24_X(),
			awslambda.Runtime_PYTHON_3_12(), awslambda.Runtime_PYTHON_3_13(), awslambda.Runtime_JAVA_21(),
		},
		// A stack update publishes a new version; functions keep the one
		// they pinned until they move.
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
}
