// Package fraud scores payments with the model and threshold its flags choose.
package fraud

import (
	"context"

	"github.com/open-feature/go-sdk/openfeature"
)

func Score(ctx context.Context, client *openfeature.Client, p Payment, ec openfeature.EvaluationContext) bool {
	if off, _ := client.BooleanValue(ctx, "fraud-kill-switch", false, ec); off {
		return false
	}
	model, _ := client.ObjectValue(ctx, "fraud-model-v7", map[string]any{"model": "fraud-gbm", "version": "6.4.2"}, ec)
	// The code's default (0.8) is not the flag's default variant (0.75): a default-mismatch.
	threshold, _ := client.FloatValue(ctx, "fraud-score-threshold", 0.8, ec)
	explain, _ := client.BooleanValue(ctx, "fraud-eu-explainability", false, ec)
	// A typo: no flag is called fraud-modle-v7, so everyone gets the code's default.
	legacy, _ := client.BooleanValue(ctx, "fraud-modle-v7", false, ec)
	return run(model, p, explain, legacy) > threshold
}
