package main

import "github.com/dsrdesk/dsrdesk/shared/digest"

// The ladder of levels and the digest's words live in shared/digest, where the workspace's
// preview of the digest finds them too; the sweep claims, reports and marks.
type (
	level      = digest.Level
	escalation = digest.Escalation
	ladder     = digest.Ladder
)

const (
	levelOverdue  = digest.LevelOverdue
	levelDueToday = digest.LevelDueToday
)

var (
	newLadder = digest.NewLadder
	levelText = digest.LevelText
	daysText  = digest.DaysText
)
