/*
 * cockpit-walk.js - drives the certstore Cockpit page in headless chromium
 * (puppeteer-core), as an admin would, and prints one line per check:
 *   "ok - DESC" or "not ok - DESC" followed by "# ..." detail lines,
 * which tests/heavy/cockpit.sh turns into TAP.  Run by that script only.
 *
 * Environment (set by cockpit.sh; the password is never on a command line):
 *   CS_URL        http://127.0.0.1:PORT of cockpit-ws
 *   CS_USER, CS_PASSWORD   the test user
 *   CS_CHROMIUM   the browser
 *   CS_ARTIFACTS  where screenshots go
 *   CS_FILES      directory of the files the admin uploads
 *   CS_SNAPSHOT   a program printing the store's content (for "unchanged")
 *   CS_CLI        a program running `certstore` on the test's store
 *   CS_WORK       a scratch directory
 *   CS_SIGNER_CRT, CS_SIGNER_KEY   an offline CA (openssl) for the request file
 */
"use strict";

const puppeteer = require("puppeteer-core");
const { execFileSync } = require("child_process");
const path = require("path");
const fs = require("fs");

const env = process.env;
const FILES = env.CS_FILES;
let failures = 0;
let shot = 0;

function ok(cond, desc, detail) {
    console.log((cond ? "ok - " : "not ok - ") + desc);
    if (!cond) {
        failures++;
        if (detail)
            console.log(String(detail).split("\n").map(l => "# " + l).join("\n"));
    }
    return cond;
}

function snapshot() {
    return execFileSync(env.CS_SNAPSHOT, { encoding: "utf8" });
}

function cliJson(...args) {
    return JSON.parse(execFileSync(env.CS_CLI, args.concat(["--json"]), { encoding: "utf8" }));
}

function sleep(ms) {
    return new Promise(r => setTimeout(r, ms));
}

async function screenshot(page, name) {
    shot++;
    const file = path.join(env.CS_ARTIFACTS, String(shot).padStart(2, "0") + "-" + name + ".png");
    /* a dialog covers the window, not the whole page: shoot what is seen */
    const dialogOpen = await page.evaluate(() => {
        const b = document.getElementById("dialog-backdrop");
        return !!b && !b.hidden;
    }).catch(() => false);
    await page.screenshot({ path: file, fullPage: !dialogOpen });
}

async function text(page, selector) {
    return page.$eval(selector, e => e.textContent);
}

/* Waits until the selector's text matches re; returns the text. */
async function waitText(page, selector, re, timeout) {
    try {
        await page.waitForFunction((s, src) => {
            const e = document.querySelector(s);
            return e && new RegExp(src).test(e.textContent);
        }, { timeout: timeout || 60000 }, selector, re.source);
    } catch (e) {
        const got = await page.$eval(selector, x => x.textContent).catch(() => "(no " + selector + ")");
        throw new Error("waiting for " + selector + " ~ /" + re.source + "/: " + got);
    }
    return text(page, selector);
}

/* The dialog's outcome: the selector of success, or the dialog's error. */
async function waitOutcome(page, successSelector) {
    await page.waitForFunction(s => document.querySelector(s) ||
                                   !document.getElementById("dialog-error").hidden,
                               { timeout: 120000 }, successSelector);
    if (await page.$(successSelector))
        return { ok: true };
    return { ok: false, error: await text(page, "#dialog-error") };
}

async function click(page, selector) {
    await page.waitForSelector(selector, { visible: true, timeout: 30000 });
    await page.click(selector);
}

async function type(page, selector, value) {
    await page.waitForSelector(selector, { visible: true });
    await page.$eval(selector, e => { e.value = "" });
    await page.type(selector, value);
}

const PAGE_CONTENT = { usages: "#usages-table", expiry: "#expiry-chart", log: "#log-table" };

/* Goes to a page and waits until it shows what it loaded (data-loaded). */
async function goPage(page, name) {
    await click(page, `#nav button[data-page="${name}"]`);
    if (PAGE_CONTENT[name])
        await page.waitForSelector(PAGE_CONTENT[name] + '[data-loaded="1"]', { timeout: 60000 });
}

async function openStore(page, store) {
    await click(page, `#nav button[data-page="stores"]`);
    await click(page, `#store-tabs button[data-store="${store}"]`);
    await page.waitForSelector(`#store-table[data-loaded="${store}"]`, { timeout: 60000 });
}

async function importFile(page, file, opts) {
    await click(page, "#btn-import");
    const input = await page.waitForSelector("#import-file");
    await input.uploadFile(path.join(FILES, file));
    await input.evaluate(e => e.dispatchEvent(new Event("change")));
    if (opts.password !== undefined)
        await type(page, "#import-password", opts.password);
    if (opts.store)
        await page.select("#import-store", opts.store);
    if (opts.trust)
        await click(page, "#import-trust");
    if (opts.exportable)
        await click(page, "#import-exportable");
    if (opts.name)
        await type(page, "#import-name", opts.name);
    await click(page, "#import-run");
    return waitOutcome(page, "#import-done");
}

/* Clicks the page's download link, as the admin would, and returns what
 * the browser saved (downloads go to CS_WORK/downloads). */
async function download(page) {
    const name = await page.$eval("#download-link", a => a.download);
    const file = path.join(env.CS_WORK, "downloads", name);
    await click(page, "#download-link");
    for (let i = 0; i < 300 && !fs.existsSync(file); i++)
        await sleep(100);
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "(nothing downloaded as " + name + ")";
}

async function closeDialog(page) {
    await page.evaluate(() => { document.getElementById("dialog-backdrop").hidden = true });
}

async function selectCert(page, thumbprint) {
    await click(page, `#certs tr[data-thumbprint="${thumbprint}"]`);
    await page.waitForSelector("#details-status");
}

async function main() {
    const browser = await puppeteer.launch({
        executablePath: env.CS_CHROMIUM,
        headless: true,
        args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
        defaultViewport: { width: 1280, height: 900 },
    });
    const page = await browser.newPage();
    fs.mkdirSync(path.join(env.CS_WORK, "downloads"), { recursive: true });
    const cdp = await page.createCDPSession();
    await cdp.send("Browser.setDownloadBehavior", { behavior: "allow", downloadPath: path.join(env.CS_WORK, "downloads") });
    const consoleErrors = [];
    page.on("pageerror", e => consoleErrors.push(String(e)));
    page.on("dialog", d => d.dismiss());

    try {
        /* ---- log in, as the admin would ---- */
        await page.goto(env.CS_URL + "/", { waitUntil: "networkidle2" });
        await page.waitForSelector("#login-user-input", { visible: true });
        await screenshot(page, "login");
        /* Administrative access on: what the shell's "Limited access" switch
         * remembers for the next login, read by the login page. */
        await page.evaluate(u => localStorage.setItem("superuser:" + u, "any"), env.CS_USER);
        await page.type("#login-user-input", env.CS_USER);
        await page.type("#login-password-input", env.CS_PASSWORD);
        await page.click("#login-button");
        await page.waitForNavigation({ waitUntil: "networkidle2", timeout: 60000 }).catch(() => {});
        await page.goto(env.CS_URL + "/certstore", { waitUntil: "networkidle2" });
        await sleep(3000);
        await screenshot(page, "shell-menu");
        const inShell = await page.frames().some(f => f.url().includes("/certstore/index.html"));
        ok(inShell, "the shell lists the page and loads it in its frame");

        /* The page itself, outside the shell's frame: the same session. */
        await page.goto(env.CS_URL + "/cockpit/@localhost/certstore/index.html", { waitUntil: "networkidle2" });
        await page.waitForSelector("body[data-ready]", { timeout: 60000 });
        await page.waitForSelector('#store-table[data-loaded="My"]', { timeout: 60000 });
        const label = await text(page, "#store-dir-label");
        ok(label.includes(env.CS_STORE), "the page works on the configured store", label);
        const first = await text(page, "#store-table");
        ok(!/failed/i.test(first), "Personal lists without an error (superuser works)", first);

        /* ---- import a root to Root: a decision ---- */
        let before = snapshot();
        await click(page, "#btn-import");
        let input = await page.waitForSelector("#import-file");
        await input.uploadFile(path.join(FILES, "lab-root.cer"));
        await page.select("#import-store", "Root");
        await click(page, "#import-run");
        let err = await waitText(page, "#dialog-error", /I trust this root/);
        ok(/decision/.test(err), "Root without ticking 'I trust this root': refused, says why", err);
        ok(snapshot() === before, "... and the store is unchanged");
        await click(page, "#import-trust");
        await click(page, "#import-run");
        let out = await waitOutcome(page, "#import-done");
        ok(out.ok, "import the local CA's root to Root", out.error);
        await screenshot(page, "import-root-result");
        await closeDialog(page);
        const roots = cliJson("list", "Root");
        ok(roots.length === 1, "the CLI sees the root in Root", JSON.stringify(roots));
        await openStore(page, "Root");
        await page.waitForSelector("#certs tbody tr");
        ok((await text(page, "#certs")).includes(roots[0].thumbprint), "the Root tab lists it");
        await screenshot(page, "stores-root");

        /* ---- the request wizard against the local CA ---- */
        await click(page, "#btn-request");
        await page.waitForSelector("#wizard-step-1");
        await page.select("#wz-ca", "lab");
        await screenshot(page, "wizard-1-ca");
        await click(page, "#wizard-next");
        await type(page, "#wz-cn", "web.example");
        await type(page, "#wz-org", "certstore tests");
        await type(page, "#wz-sans", "dns:web.example\nip:127.0.0.1");
        await screenshot(page, "wizard-2-subject");
        await click(page, "#wizard-next");
        await page.select("#wz-key", "ec:p256");
        await screenshot(page, "wizard-3-key");
        await click(page, "#wizard-next");
        await type(page, "#wz-name", "web");
        await screenshot(page, "wizard-4-name");
        await click(page, "#wizard-next");
        const summary = await waitText(page, "#wizard-summary", /web\.example/);
        ok(/ec:p256/.test(summary) && /web\.example/.test(summary), "wizard summary: the CLI's dry run, with subject and key", summary);
        await screenshot(page, "wizard-5-summary");
        await click(page, "#wizard-finish");
        out = await waitOutcome(page, "#wizard-report");
        ok(out.ok, "wizard: the request is issued by the local CA", out.error);
        const report = out.ok ? await text(page, "#wizard-report") : "";
        ok(/Certificate issued and installed in My/.test(report), "wizard result: the CLI's report", report);
        ok(/Status: +Valid/.test(report), "wizard result: Valid (its root is trusted)", report);
        await screenshot(page, "wizard-6-result");
        await closeDialog(page);
        const web = cliJson("list", "My").find(c => c.friendly_name === "web");
        ok(web && web.status === "Valid", "the CLI sees 'web' Valid in My", JSON.stringify(web));

        /* ---- details, then assign to Default ---- */
        await openStore(page, "My");
        await selectCert(page, web.thumbprint);
        const status = await waitText(page, "#details-status", /\S/);
        ok(status === "Valid", "details: status Valid", status);
        const chain = await text(page, "#details-chain");
        ok(/certstore lab CA/.test(chain), "details: the chain reaches the local CA", chain);
        await screenshot(page, "details-web");
        await click(page, "#btn-assign");
        await type(page, "#assign-usages", "Default");
        await click(page, "#assign-run");
        await page.waitForFunction(() => document.getElementById("dialog-backdrop").hidden ||
                                         !document.getElementById("dialog-error").hidden, { timeout: 60000 });
        const assignErr = await page.$eval("#dialog-error", e => e.hidden ? "" : e.textContent);
        ok(!assignErr, "assign web to Default", assignErr);
        await closeDialog(page);
        let usages = cliJson("usages");
        ok(usages.some(u => u.usage === "Default" && u.thumbprint === web.thumbprint && u.status === "Assigned"),
           "the CLI: Default serves web, Assigned", JSON.stringify(usages));

        await goPage(page, "usages");
        const urow = await waitText(page, '#usages tr[data-usage="Default"]', /Assigned/);
        ok(urow.includes(web.thumbprint), "Usages: Default, web's thumbprint, Assigned", urow);
        await screenshot(page, "usages-assigned");

        await goPage(page, "expiry");
        await page.waitForSelector("#expiry-timeline");
        const bar = await page.$('#expiry-timeline g[data-kind="usage"][data-id="Default"]');
        ok(!!bar, "Expiry: the timeline draws usage Default");
        const certBar = await page.$(`#expiry-timeline g[data-kind="certificate"][data-id="${web.thumbprint}"]`);
        ok(!!certBar, "Expiry: the timeline draws web's certificate");
        await screenshot(page, "expiry");

        /* ---- renew: Default follows ---- */
        await openStore(page, "My");
        await selectCert(page, web.thumbprint);
        await click(page, "#btn-renew");
        await click(page, "#renew-run");
        out = await waitOutcome(page, "#renew-done");
        ok(out.ok, "renew web", out.error);
        await screenshot(page, "renew-result");
        await closeDialog(page);
        usages = cliJson("usages");
        const dflt = usages.find(u => u.usage === "Default");
        ok(dflt && dflt.thumbprint !== web.thumbprint && dflt.status === "Assigned",
           "the CLI: Default moved to the renewed certificate", JSON.stringify(dflt));
        await goPage(page, "usages");
        const urow2 = await waitText(page, '#usages tr[data-usage="Default"]', /Assigned/);
        ok(dflt && urow2.includes(dflt.thumbprint), "Usages: Default shows the new thumbprint", urow2);

        /* ---- the log ---- */
        await goPage(page, "log");
        await page.waitForSelector("#log tbody tr");
        const log = await text(page, "#log");
        for (const action of ["import", "assign", "renew"])
            ok(new RegExp(action).test(log), "Log: shows a '" + action + "' entry", log.slice(0, 2000));
        await screenshot(page, "log");

        /* ---- an offline request: the file, signed elsewhere, accepted ---- */
        await click(page, "#btn-request");
        await page.waitForSelector("#wizard-step-1");
        await click(page, "#wz-mode-file");
        await click(page, "#wizard-next");
        await type(page, "#wz-cn", "offline.example");
        await type(page, "#wz-sans", "dns:offline.example");
        await click(page, "#wizard-next");
        await click(page, "#wizard-next");
        await type(page, "#wz-name", "offline");
        await click(page, "#wizard-next");
        await waitText(page, "#wizard-summary", /offline\.example/);
        await click(page, "#wizard-finish");
        out = await waitOutcome(page, "#wizard-report");
        ok(out.ok, "wizard, offline: the request is written", out.error);
        const csr = out.ok ? await download(page) : "";
        ok(/BEGIN CERTIFICATE REQUEST/.test(csr), "wizard, offline: the request file is offered for download", csr.slice(0, 200));
        await screenshot(page, "wizard-offline-result");
        await closeDialog(page);
        await openStore(page, "Request");
        const pending = await text(page, "#store-table");
        ok(/offline\.example/.test(pending), "Requests: the pending request is listed", pending);
        await screenshot(page, "stores-requests");
        fs.writeFileSync(path.join(env.CS_WORK, "offline.req"), csr);
        execFileSync("openssl", ["x509", "-req", "-in", path.join(env.CS_WORK, "offline.req"),
                                 "-CA", env.CS_SIGNER_CRT, "-CAkey", env.CS_SIGNER_KEY, "-days", "30",
                                 "-out", path.join(FILES, "offline-response.cer")], { stdio: "ignore" });
        await click(page, "#btn-accept");
        input = await page.waitForSelector("#accept-file");
        await input.uploadFile(path.join(FILES, "offline-response.cer"));
        await click(page, "#accept-run");
        out = await waitOutcome(page, "#accept-done");
        ok(out.ok, "accept the CA's response", out.error);
        await screenshot(page, "accept-result");
        await closeDialog(page);
        const offline = cliJson("list", "My").find(c => c.friendly_name === "offline");
        ok(offline && offline.key, "the CLI: the response is in My, bound to the request's key", JSON.stringify(offline));
        ok(cliJson("requests").length === 0, "the CLI: no request pending any more");

        /* ---- export: the certificate and chain; no PFX for a key that stays ---- */
        const renewed = cliJson("list", "My").find(c => c.friendly_name === "web");
        await openStore(page, "My");
        await selectCert(page, renewed.thumbprint);
        await click(page, "#btn-export");
        const formats = await page.$$eval("#export-format option", os => os.map(o => o.value));
        ok(!formats.includes("pfx"), "export: PFX is not offered for a non-exportable key", formats.join(","));
        await click(page, "#export-chain");
        await click(page, "#export-run");
        out = await waitOutcome(page, "#download-link");
        ok(out.ok, "export web with its chain", out.error);
        const pem = out.ok ? await download(page) : "";
        ok((pem.match(/BEGIN CERTIFICATE/g) || []).length === 2, "export: the download holds web and its CA", pem.slice(0, 300));
        await screenshot(page, "export");
        await closeDialog(page);

        /* ---- a staged roll from Usages ---- */
        await goPage(page, "usages");
        await click(page, '#usages tr[data-usage="Default"] button');
        await page.waitForSelector("#assign-cert");
        await page.select("#assign-cert", offline.thumbprint);
        const at = new Date(Date.now() + 2 * 86400000);
        const pad = n => String(n).padStart(2, "0");
        const local = at.getFullYear() + "-" + pad(at.getMonth() + 1) + "-" + pad(at.getDate()) + "T" +
            pad(at.getHours()) + ":" + pad(at.getMinutes());
        await page.$eval("#assign-at", (e, v) => { e.value = v }, local);
        await click(page, "#assign-force");
        await click(page, "#assign-run");
        await page.waitForFunction(() => document.getElementById("dialog-backdrop").hidden ||
                                         !document.getElementById("dialog-error").hidden, { timeout: 60000 });
        const stageErr = await page.$eval("#dialog-error", e => e.hidden ? "" : e.textContent);
        ok(!stageErr, "stage a roll of Default to the offline certificate in two days (forced)", stageErr);
        await closeDialog(page);
        const staged = cliJson("usages").find(u => u.usage === "Default");
        ok(staged && staged.staged && staged.staged.thumbprint === offline.thumbprint,
           "the CLI: Default has the staged roll", JSON.stringify(staged));
        ok(staged && staged.staged && Math.abs(Date.parse(staged.staged.at) - at.getTime()) < 120000,
           "the CLI: staged for the time entered", JSON.stringify(staged && staged.staged) + " vs " + at.toISOString());
        await goPage(page, "usages");
        const urow3 = await text(page, '#usages tr[data-usage="Default"]');
        ok(urow3.includes(offline.thumbprint), "Usages: the staged roll is shown", urow3);
        await screenshot(page, "usages-staged");

        /* ---- bad input: the CLI's message, the store unchanged ---- */
        await openStore(page, "My");
        before = snapshot();
        out = await importFile(page, "server.pfx", { password: "not the password" });
        ok(!out.ok && /exit status 10/.test(out.error), "PFX with a wrong password: refused, exit status 10", out.error);
        ok(!out.ok && out.error.includes(env.CS_MSG_PFX), "... the CLI's message is shown", out.error + "\nwanted: " + env.CS_MSG_PFX);
        ok(!out.ok && /enter the PFX password again/.test(out.error), "... with what to do", out.error);
        await screenshot(page, "bad-pfx-password");
        await closeDialog(page);
        ok(snapshot() === before, "... the store is unchanged");

        out = await importFile(page, "corrupt.cer", {});
        ok(!out.ok && /exit status 5/.test(out.error), "a corrupt file: refused, exit status 5", out.error);
        ok(!out.ok && out.error.includes(env.CS_MSG_CORRUPT), "... the CLI's message naming the file", out.error + "\nwanted: " + env.CS_MSG_CORRUPT);
        await screenshot(page, "bad-corrupt-file");
        await closeDialog(page);
        ok(snapshot() === before, "... the store is unchanged");

        const untrusted = cliJson("list", "My").find(c => c.friendly_name === "untrusted");
        await openStore(page, "My");
        await selectCert(page, untrusted.thumbprint);
        const ustatus = await text(page, "#details-status");
        ok(ustatus !== "Valid", "the certificate under a root not trusted is not Valid: " + ustatus);
        await click(page, "#btn-assign");
        await type(page, "#assign-usages", "Default");
        await click(page, "#assign-run");
        err = await waitText(page, "#dialog-error", /exit status/);
        ok(/exit status 14/.test(err), "assign a non-Valid certificate without force: refused, exit status 14", err);
        ok(err.includes(env.CS_MSG_ASSIGN), "... the CLI's message is shown", err + "\nwanted: " + env.CS_MSG_ASSIGN);
        ok(/Assign even if not Valid/.test(err), "... with what to do", err);
        await screenshot(page, "bad-assign-not-valid");
        await closeDialog(page);
        ok(snapshot() === before, "... the store is unchanged");

        /* ---- a PFX with its password: the key into the token, exportable; out again ---- */
        out = await importFile(page, "server.pfx", { password: env.CS_PFX_PASSWORD, exportable: true, name: "pfx" });
        ok(out.ok, "import a PFX with its password, key exportable", out.error);
        await screenshot(page, "import-pfx");
        await closeDialog(page);
        const pfxCert = cliJson("list", "My").find(c => c.friendly_name === "pfx");
        ok(pfxCert && pfxCert.key && pfxCert.exportable, "the CLI: in My with an exportable key", JSON.stringify(pfxCert));
        await openStore(page, "My");
        await selectCert(page, pfxCert.thumbprint);
        await click(page, "#btn-export");
        await page.select("#export-format", "pfx");
        await type(page, "#export-password", "export password");
        await click(page, "#export-run");
        out = await waitOutcome(page, "#download-link");
        ok(out.ok, "export it as a PFX", out.error);
        if (out.ok) {
            const name = await page.$eval("#download-link", a => a.download);
            await download(page);
            const got = path.join(env.CS_WORK, "downloads", name);
            let keyOut = "";
            try {
                keyOut = execFileSync("openssl", ["pkcs12", "-in", got, "-nocerts", "-nodes", "-passin", "env:CS_EXPORT_PASS"],
                                      { encoding: "utf8", env: Object.assign({}, process.env, { CS_EXPORT_PASS: "export password" }),
                                        stdio: ["ignore", "pipe", "pipe"] });
            } catch (e) {
                keyOut = String(e.stderr || e);
            }
            ok(/PRIVATE KEY/.test(keyOut), "the downloaded PFX opens with the password and holds the key", keyOut.slice(0, 200));
        }
        await closeDialog(page);

        /* ---- stop trusting the root: Disallowed, and the usage says so ---- */
        await openStore(page, "Root");
        await selectCert(page, roots[0].thumbprint);
        await click(page, "#btn-disallow");
        await click(page, "#disallow-run");
        await page.waitForFunction(() => document.getElementById("dialog-backdrop").hidden ||
                                         !document.getElementById("dialog-error").hidden, { timeout: 60000 });
        const moveErr = await page.$eval("#dialog-error", e => e.hidden ? "" : e.textContent);
        ok(!moveErr, "move the local CA's root to Disallowed", moveErr);
        await closeDialog(page);
        ok(cliJson("list", "Disallowed").some(c => c.thumbprint === roots[0].thumbprint), "the CLI: the root is in Disallowed");
        await openStore(page, "Disallowed");
        ok((await text(page, "#store-table")).includes(roots[0].thumbprint), "the Disallowed tab lists it");
        await goPage(page, "usages");
        const urow4 = await text(page, '#usages tr[data-usage="Default"]');
        ok(!/Assigned/.test(urow4) && /Disallowed|Untrusted/.test(urow4), "Usages: Default is no longer Assigned, and says why", urow4);
        await screenshot(page, "usages-after-disallow");

        ok(consoleErrors.length === 0, "no JavaScript errors on the page", consoleErrors.join("\n"));
    } catch (e) {
        ok(false, "the walk went to its end", e.stack);
        await screenshot(page, "failure").catch(() => {});
    } finally {
        await browser.close();
    }
    process.exit(failures ? 1 : 0);
}

main();
