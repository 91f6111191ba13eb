package main

import "github.com/dsrdesk/dsrdesk/shared/errlog"

// outOfTime names the sweep's own way of stopping early in its logs.
var outOfTime = errlog.Kind{Err: errOutOfTime, Name: "out_of_time"}
