package main

import (
	"context"
	"io"
)

func cmdTestQuestions(ctx context.Context, args []string, stdout io.Writer) error {
	return exitError{code: 2, msg: "not yet"}
}
