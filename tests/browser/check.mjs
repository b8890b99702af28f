// Loads each page type of a running fedblog in headless Chromium and checks what a
// reader meets: no console errors, no sideways scrolling on a phone or a desktop, no
// serious or critical accessibility violations (axe-core), valid markup
// (html-validate), and a follow form that reaches the reader's own server.
// Screenshots of every page at both widths (and in dark mode) go to <screenshot-dir>.
//
// usage: node check.mjs <base-url> <screenshot-dir> '<json [{"name","path","status"?}]>'
// env:   CHROMIUM (default /usr/bin/chromium)
// Prints one line per problem and exits 1 if there is any.

import { mkdirSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";
import { HtmlValidate } from "html-validate";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

const [base, shotDir, pagesJson] = process.argv.slice(2);
if (!base || !shotDir || !pagesJson) {
  console.error("usage: node check.mjs <base-url> <screenshot-dir> '<json list of pages>'");
  process.exit(2);
}
const pages = JSON.parse(pagesJson);
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
if (!existsSync(executablePath)) {
  console.error(`Chromium not found at ${executablePath}: run scripts/test.sh, which installs Debian's chromium package`);
  process.exit(2);
}
mkdirSync(shotDir, { recursive: true });

const WIDTHS = [
  { name: "phone", width: 375, height: 812 },
  { name: "desktop", width: 1280, height: 900 },
];
// The fediverse server a reader types into the follow form; never contacted (routed below).
const READER_SERVER = "social.example";

const problems = [];
const problem = (where, what) => problems.push(`${where}: ${what}`);

const validator = new HtmlValidate({
  extends: ["html-validate:recommended"],
  rules: {
    // Style, not validity: the Markdown renderer writes `<img ... />` and keeps
    // the author's trailing spaces.
    "void-style": "off",
    "no-trailing-whitespace": "off",
  },
});

async function validateMarkup(name, url) {
  const res = await fetch(url, { headers: { accept: "text/html" }, redirect: "manual" });
  const html = await res.text();
  const report = await validator.validateString(html, url);
  if (!report.valid) {
    for (const r of report.results) {
      for (const m of r.messages) {
        problem(`${name} markup`, `line ${m.line}:${m.column} ${m.ruleId}: ${m.message}`);
      }
    }
  }
}

async function axeAudit(page, where) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    axe.run(document, { resultTypes: ["violations"] }),
  );
  for (const v of result.violations) {
    if (v.impact === "serious" || v.impact === "critical") {
      const targets = v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ");
      problem(`${where} a11y`, `${v.impact} ${v.id}: ${v.help} (${targets})`);
    }
  }
}

// launch() gives Chromium a fresh temporary profile (user-data dir) and removes it on close.
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
  ],
});

try {
  for (const p of pages) {
    const url = new URL(p.path, base).toString();
    const expectStatus = p.status ?? 200;
    await validateMarkup(p.name, url);
    for (const scheme of ["light", "dark"]) {
      for (const w of WIDTHS) {
        // Dark mode is screenshotted and audited at both widths too: colours differ.
        const where = `${p.name} @${w.width}px ${scheme}`;
        const context = await browser.newContext({
          viewport: { width: w.width, height: w.height },
          colorScheme: scheme,
          deviceScaleFactor: 1,
        });
        const page = await context.newPage();
        const errors = [];
        page.on("console", (msg) => {
          if (msg.type() !== "error") return;
          // The browser logs the status of an error page's own document; that is the page under test.
          const loc = msg.location()?.url ?? "";
          if (expectStatus !== 200 && loc === url && msg.text().includes(`status of ${expectStatus}`)) return;
          errors.push(msg.text());
        });
        page.on("pageerror", (e) => errors.push(String(e)));
        page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
        const res = await page.goto(url, { waitUntil: "load" });
        if (res.status() !== expectStatus) problem(where, `status ${res.status()}, expected ${expectStatus}`);
        const { scrollWidth, innerWidth } = await page.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth,
          innerWidth: window.innerWidth,
        }));
        if (scrollWidth > innerWidth) problem(where, `scrolls sideways: ${scrollWidth}px of content in ${innerWidth}px`);
        const broken = await page.evaluate(() =>
          [...document.images].filter((i) => i.complete && i.naturalWidth === 0).map((i) => i.src),
        );
        for (const src of broken) problem(where, `image does not load: ${src}`);
        await page.screenshot({ path: join(shotDir, `${p.name}-${w.width}-${scheme}.png`), fullPage: true });
        await axeAudit(page, where);
        for (const e of errors) problem(where, `console error: ${e}`);
        await context.close();
      }
    }
  }

  // The follow form on an author page sends the reader to their server's interaction page.
  const author = pages.find((p) => p.follow);
  if (author) {
    const context = await browser.newContext({ viewport: { width: 375, height: 812 } });
    const page = await context.newPage();
    let reached = null;
    await page.route(`https://${READER_SERVER}/**`, (route) => {
      reached = route.request().url();
      return route.fulfill({ status: 200, contentType: "text/html", body: "<!doctype html><title>reader's server</title>" });
    });
    await page.goto(new URL(author.path, base).toString());
    const copy = page.locator("button.copy").first();
    if (!(await copy.isVisible())) problem("author page", "the copy button is not shown when JavaScript runs");
    const redirect = page.waitForResponse((r) => r.url().includes("/follow?"));
    await page.locator("form.follow-form input[name=server]").first().fill(`@me@${READER_SERVER}`);
    await page.locator("form.follow-form button[type=submit]").first().click();
    const res = await redirect;
    await page.waitForURL(`https://${READER_SERVER}/**`);
    const expected = `https://${READER_SERVER}/authorize_interaction?uri=${encodeURIComponent(author.follow)}`;
    if (res.status() !== 303) problem("follow form", `/follow answered ${res.status()}, expected 303`);
    if (res.headers()["location"] !== expected) problem("follow form", `redirects to ${res.headers()["location"]}, expected ${expected}`);
    if (reached !== expected) problem("follow form", `the browser reached ${reached}, expected ${expected}`);
    await context.close();
  }
} finally {
  await browser.close();
}

for (const p of problems) console.log(`FAIL ${p}`);
console.log(`${pages.length} page types checked at ${WIDTHS.map((w) => w.width).join(" and ")} px; screenshots in ${shotDir}`);
process.exit(problems.length ? 1 : 0);
