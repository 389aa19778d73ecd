package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/zwrm/secrets/client"
	"github.com/zwrm/secrets/internal/secrets"
)

// newEffectiveCmd is `zwrm secrets effective`: what a workload at a layer
// receives in one environment, where each value comes from and what it
// overrides, with masks in place of values.
func newEffectiveCmd(a *app) *cobra.Command {
	lf := &layerFlags{}
	var envName string
	cmd := &cobra.Command{
		Use:   "effective --env ENV [--app APP [--machine M]]",
		Short: "Show what a workload at a layer receives in one environment: source layer, version and mask, never a value",
		Long: `For each name a workload at the layer would resolve in the environment, show
the layer its value comes from (the machine value, else the app value, else
the global value; a layer without a value for the environment overrides
nothing), that secret's version and mask, and the lower layers it overrides,
nearest first. Without --app, the global layer.

No value is opened: any user may ask about any environment. A service token
asks within its scope, which supplies an --app or --machine left out.`,
		Example: `  zwrm secrets effective --env production --app web --machine web-1
  zwrm secrets effective --env staging --app web -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			plan, err := planAtLayer(envName, lf)
			if err != nil {
				return err
			}
			res, err := a.callEffective(cmd.Context(), plan)
			if err != nil {
				return err
			}
			return a.printEffective(plan, res)
		},
	}
	cmd.Flags().StringVar(&envName, "env", "", "the environment a workload would resolve: development, staging or production (required)")
	_ = cmd.MarkFlagRequired("env")
	_ = cmd.RegisterFlagCompletionFunc("env", envCompletion)
	lf.add(cmd)
	return cmd
}

// atLayer is an environment at a layer: what a workload resolves, and
// what import, export, run and effective ask about.
type atLayer struct {
	env   secrets.Environment
	layer secrets.Layer
}

// planAtLayer reads --env and the layer flags.
func planAtLayer(envName string, lf *layerFlags) (atLayer, error) {
	env, err := parseEnv(envName)
	if err != nil {
		return atLayer{}, err
	}
	layer, err := lf.layer()
	if err != nil {
		return atLayer{}, err
	}
	return atLayer{env: env, layer: layer}, nil
}

func (a *app) callEffective(ctx context.Context, plan atLayer) (*client.Effective, error) {
	cl, err := a.client()
	if err != nil {
		return nil, err
	}
	return cl.Effective(ctx, plan.env, plan.layer)
}

func (a *app) printEffective(plan atLayer, res *client.Effective) error {
	if a.jsonOutput() {
		// The API's answer as it is: app and machine are null when not asked.
		return a.printJSON(struct {
			Environment secrets.Environment      `json:"environment"`
			App         *string                  `json:"app"`
			Machine     *string                  `json:"machine"`
			Secrets     []client.EffectiveSecret `json:"secrets"`
		}{res.Environment, res.App, res.Machine, res.Secrets})
	}
	// The layer the answer explains; a service token's scope may have
	// supplied what the command line left out.
	layer := res.Layer()
	if layer.App == "" {
		layer = plan.layer
	}
	if len(res.Secrets) == 0 {
		a.note("No secrets reach the %s layer in %s.", layer, plan.env)
		return nil
	}
	tb := a.table("NAME", "FROM", "VERSION", "MASK", "OVERRIDES")
	for _, s := range res.Secrets {
		var over []string
		for _, o := range s.Overrides {
			over = append(over, fmt.Sprintf("%s v%d", layerOfKind(layer, o.Layer), o.Version))
		}
		tb.row(s.Name, layerOfKind(layer, s.Layer), fmt.Sprint(s.Version), s.Mask, strings.Join(over, ", "))
	}
	return tb.flush()
}

// layerOfKind names the layer of kind ("global", "app" or "machine") in the
// chain of l: "global", "app web" or "machine web/web-1".
func layerOfKind(l secrets.Layer, kind string) string {
	switch kind {
	case "machine":
		if l.Machine == "" {
			return "machine"
		}
		return "machine " + l.App + "/" + l.Machine
	case "app":
		if l.App == "" {
			return "app"
		}
		return "app " + l.App
	}
	return kind
}
