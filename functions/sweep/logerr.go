package main

import "github.com/dsrdesk/dsrdesk/shared/errlog"

// outOfTime and noClaims name the sweep's own ways of ending a run unfinished in its logs.
var (
	outOfTime = errlog.Kind{Err: errOutOfTime, Name: "out_of_time"}
	noClaims  = errlog.Kind{Err: errNoClaims, Name: "no_claims"}
)
