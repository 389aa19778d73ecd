// Command infra is the CDK app of zwrm secrets: it reads the stage's
// settings from CDK context, defines the stack and synthesizes it.
//
//	make synth                          # go run ./infra into cdk.out, offline
//	npx cdk deploy -c stage=dev ...     # cdk.json runs it the same way
package main

import (
	"fmt"
	"os"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	props, err := PropsFromContext(app.Node().TryGetContext)
	if err == nil {
		err = CheckAssets(props.AssetDir)
	}
	if err == nil {
		err = CheckUIAssets(props.UIAssetDir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		jsii.Close()
		os.Exit(2)
	}
	if ctx, err := ContextFromEnv(); err == nil {
		unknown := UnknownContextKeys(ctx)
		sort.Strings(unknown)
		for _, k := range unknown {
			fmt.Fprintf(os.Stderr, "infra: warning: context key %q is not a setting of this app; it is ignored\n", k)
		}
	}
	// With credentials, the CDK CLI names the account and region; without
	// them (make synth) the template is environment-agnostic.
	if account, region := os.Getenv("CDK_DEFAULT_ACCOUNT"), os.Getenv("CDK_DEFAULT_REGION"); account != "" && region != "" {
		props.Env = &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(region)}
	}
	NewSecretsStack(app, StackName(props.Stage), &props)
	app.Synth(nil)
}
