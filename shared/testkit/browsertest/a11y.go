package browsertest

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// CheckReadable fails the test for every problem on the page in the tab of ctx that WCAG 2.1
// AA rules out and a script can see: visible text whose contrast with what is behind it is
// under 4.5:1 (3:1 for large text; success criterion 1.4.3), and a focusable element that
// shows no outline or ring when focused (2.4.7). page names the page in the messages.
//
// It focuses every element in turn, then blurs and scrolls back to the top; call it between
// steps, not while a field is being typed into.
func CheckReadable(t testing.TB, ctx context.Context, page string) {
	t.Helper()
	// A headless tab is not the focused window, and :focus styles apply only in one that is.
	focused := chromedp.Func(func(ctx context.Context, tab *chromedp.Target) error {
		_, err := cdp.Call(ctx, tab, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
		return err
	})
	if err := chromedp.Do(ctx, focused); err != nil {
		t.Fatalf("%s: accessibility check: %v", page, err)
	}
	problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](readableJS))
	if err != nil {
		t.Fatalf("%s: accessibility check: %v", page, err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", page, p)
	}
}

// readableJS computes contrast as WCAG 2.1 defines it: relative luminance of sRGB colours,
// the text colour composed over the backgrounds behind it (ancestors' background colours,
// white at the bottom). Text off screen (the skip link until focused) and hidden text is left
// out, as are disabled controls, which 1.4.3 exempts.
const readableJS = `(() => {
  const parse = c => {
    const m = /rgba?\(([^)]+)\)/.exec(c);
    if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const over = (f, b) => ({r: f.r*f.a + b.r*(1-f.a), g: f.g*f.a + b.g*(1-f.a), b: f.b*f.a + b.b*(1-f.a), a: 1});
  const lum = c => {
    const ch = v => { v /= 255; return v <= 0.03928 ? v/12.92 : Math.pow((v+0.055)/1.055, 2.4); };
    return 0.2126*ch(c.r) + 0.7152*ch(c.g) + 0.0722*ch(c.b);
  };
  const background = el => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let bg = {r: 255, g: 255, b: 255, a: 1};
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  };
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\s+/).join('.') : '');
  const out = [];
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent.trim();
    const el = walker.currentNode.parentElement;
    if (!text || !el || seen.has(el)) continue;
    seen.add(el);
    const s = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    if (s.visibility === 'hidden' || r.width === 0 || r.height === 0 || r.right <= 0 || r.bottom <= 0) continue;
    if (el.closest(':disabled')) continue;
    const bg = background(el);
    const fg = over(parse(s.color), bg);
    const l1 = lum(fg), l2 = lum(bg);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(s.fontSize), bold = parseInt(s.fontWeight, 10) >= 700;
    const need = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
    if (ratio < need) out.push('contrast ' + ratio.toFixed(2) + ':1 (needs ' + need + ':1) for ' + name(el) + ' "' + text.slice(0, 40) + '"');
  }
  const focusable = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex="-1"])';
  for (const el of document.querySelectorAll(focusable)) {
    if (el.disabled) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    el.focus();
    if (document.activeElement !== el) continue;
    const s = getComputedStyle(el);
    const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
    const ring = s.boxShadow && s.boxShadow !== 'none';
    if (!outline && !ring) out.push('no visible focus on ' + name(el));
  }
  if (document.activeElement) document.activeElement.blur();
  window.scrollTo(0, 0);
  return out;
})()`
