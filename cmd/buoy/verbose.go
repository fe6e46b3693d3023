package main

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// logAWSCalls has every client made from cfg log each attempt of each
// call to logger at debug level: the service, operation and region, how
// long it took and, when it failed, AWS's error code (or the error). It
// logs no request or response content.
func logAWSCalls(cfg *aws.Config, logger *slog.Logger) {
	cfg.APIOptions = append(slices.Clip(cfg.APIOptions), func(s *middleware.Stack) error {
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("buoy-call-log",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				start := time.Now()
				out, md, err := next.HandleFinalize(ctx, in)
				attrs := []any{
					"service", strings.ReplaceAll(awsmiddleware.GetServiceID(ctx), " ", ""),
					"operation", awsmiddleware.GetOperationName(ctx),
					"region", awsmiddleware.GetRegion(ctx),
					"took", time.Since(start).Round(time.Millisecond),
				}
				var api smithy.APIError
				switch {
				case errors.As(err, &api):
					attrs = append(attrs, "error", api.ErrorCode())
				case err != nil:
					attrs = append(attrs, "error", err)
				}
				logger.DebugContext(ctx, "AWS call", attrs...)
				return out, md, err
			}), middleware.After)
	})
}
