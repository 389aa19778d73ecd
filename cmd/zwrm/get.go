package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/zwrm/secrets/client"
	"github.com/zwrm/secrets/internal/secrets"
)

// newGetCmd is `zwrm secrets get` and `zwrm org secrets get`: the value a
// workload at the layer would resolve for one name.
func newGetCmd(a *app, lf *layerFlags) *cobra.Command {
	var envName string
	var plain bool
	use, example := "get NAME --env ENV [--app APP [--machine M]] [--plain]", `  zwrm secrets get STRIPE_KEY --env development --app web
  export DB_URL="$(zwrm secrets get DB_URL --env development --app web --plain)"`
	if lf.global {
		use, example = "get NAME --env ENV [--plain]", `  zwrm org secrets get DATADOG_API_KEY --env development
  zwrm org secrets get DATADOG_API_KEY --env development --plain`
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: "Print the value of one secret that a workload at the layer resolves",
		Long: `Resolve one name as a workload at the layer would (the machine value, else the
app value, else the global value) and print it: the name, the layer it came
from, its version and the value. --plain prints only the value, followed by a
newline unless the value already ends with one. Same rules as zwrm run: a user
token resolves only the environments the organization allows users (development
by default); a service token resolves within its scope.

The read is audited as a resolve of that one name. A name without a value in
the environment exits 4.`,
		Example: example,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			plan, err := planGet(args[0], envName, lf)
			if err != nil {
				return err
			}
			got, err := a.callGet(cmd.Context(), plan)
			if err != nil {
				return err
			}
			return a.printGet(got, plain)
		},
	}
	cmd.Flags().StringVar(&envName, "env", "", "environment to resolve: development, staging or production")
	cmd.Flags().BoolVar(&plain, "plain", false, "print only the value (and a newline unless it ends with one)")
	_ = cmd.MarkFlagRequired("env")
	_ = cmd.RegisterFlagCompletionFunc("env", envCompletion)
	lf.add(cmd)
	return cmd
}

// getPlan is one name to resolve in an environment at a layer.
type getPlan struct {
	atLayer
	name string
}

func planGet(name, envName string, lf *layerFlags) (getPlan, error) {
	if err := secrets.ValidateName(name); err != nil {
		return getPlan{}, invalid(err)
	}
	at, err := planAtLayer(envName, lf)
	if err != nil {
		return getPlan{}, err
	}
	return getPlan{atLayer: at, name: name}, nil
}

// gotSecret is the value of one name and where it came from.
type gotSecret struct {
	Name        string              `json:"name"`
	Environment secrets.Environment `json:"environment"`
	Layer       string              `json:"layer"`
	Version     int64               `json:"version"`
	Value       string              `json:"value"`
}

func (a *app) callGet(ctx context.Context, plan getPlan) (*gotSecret, error) {
	cl, err := a.client()
	if err != nil {
		return nil, err
	}
	res, err := cl.Resolve(ctx, plan.env, plan.layer, client.Names(plan.name))
	if err != nil {
		return nil, resolveHint(ctx, cl, err, plan.env)
	}
	value, ok := res.Secrets[plan.name]
	if !ok {
		where := "the global layer"
		if plan.layer.App != "" {
			where = "the " + plan.layer.String() + " layer or the layers below it"
		}
		return nil, &client.Error{Status: http.StatusNotFound, Code: secrets.CodeNotFound,
			Message: fmt.Sprintf("%s has no value in %s at %s", plan.name, plan.env, where)}
	}
	src := res.Sources[plan.name]
	return &gotSecret{Name: plan.name, Environment: res.Environment, Layer: layerOfKind(plan.layer, src.Layer), Version: src.Version, Value: value}, nil
}

func (a *app) printGet(got *gotSecret, plain bool) error {
	if plain {
		end := "\n"
		if strings.HasSuffix(got.Value, "\n") {
			end = ""
		}
		_, err := fmt.Fprint(a.stdout, got.Value+end)
		return err
	}
	if a.jsonOutput() {
		return a.printJSON(got)
	}
	tb := a.table("NAME", "FROM", "VERSION", "VALUE")
	tb.row(got.Name, got.Layer, fmt.Sprint(got.Version), got.Value)
	return tb.flush()
}
