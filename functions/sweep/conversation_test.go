package main

import (
	"strings"
	"testing"

	"github.com/dsrdesk/dsrdesk/shared/i18n"
)

// The digest says of a request that waits for the requester's answer since when, and of one
// the requester has answered that they did; a request whose clock stands still for the
// requester's identity is not reported, since no time runs out.
func TestDigestShowsTheConversation(t *testing.T) {
	h := newHarness(t, "DK", "da")
	received := h.local(2026, 2, 2, 10, 0) // due Monday 2 March 2026: overdue on the 10th
	asked := h.local(2026, 2, 20, 9, 0)
	waiting, _ := h.add(seed{received: received, verified: true, askAt: asked})
	replied, _ := h.add(seed{received: received, verified: true, askAt: asked, replyAt: h.local(2026, 2, 24, 9, 0)})
	paused, _ := h.add(seed{received: received, verified: true, askAt: asked, pause: "To kunder med samme navn."})
	h.run(h.local(2026, 3, 10, 7, 0))

	mails := h.newMails(h.cfg.DPOAddresses[0])
	if len(mails) != 1 {
		t.Fatalf("%d digests", len(mails))
	}
	_, lines := h.digestLines(mails[0])
	blocks := lineBlocks(mails[0].Text)
	if !strings.Contains(blocks[waiting.Ref], i18n.T(i18n.DA, "sweep.digest.waiting", "20. februar 2026")) {
		t.Errorf("the waiting request's line:\n%s", blocks[waiting.Ref])
	}
	if !strings.Contains(blocks[replied.Ref], i18n.T(i18n.DA, "sweep.digest.replied", "24. februar 2026")) {
		t.Errorf("the replied request's line:\n%s", blocks[replied.Ref])
	}
	for level, refs := range lines {
		for _, ref := range refs {
			if ref == paused.Ref {
				t.Errorf("the paused request is reported at %s", level)
			}
		}
	}
	if !strings.Contains(mails[0].HTML, i18n.T(i18n.DA, "sweep.digest.waiting", "20. februar 2026")) {
		t.Error("the HTML part lacks the waiting state")
	}
}
