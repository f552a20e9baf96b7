/*
 * certstore.js - the Cockpit page of the machine certificate store.
 *
 * Every fact shown and every change made is `certstore ... --json` (or the
 * plain command where it has no JSON), spawned through Cockpit as the
 * logged-in admin with superuser: no rule of the store (placement, status,
 * trust, exportability, usage names) is decided here.  The page only draws
 * what the CLI answers, and on failure shows the CLI's own message with what
 * to do about it, keyed on the documented exit status (certstore(1)).
 *
 * Files the admin uploads, and files the CLI writes for download, go through
 * a root-owned 0700 directory from mktemp, removed after each action.
 * Passwords reach the CLI in its environment (--password-env), never argv.
 */
"use strict";

(function () {
    const STORES = ["My", "Root", "CA", "Disallowed", "Request"];
    const HORIZON_DAYS = 90;
    const PAST_DAYS = 30;
    const DAY = 86400 * 1000;

    /* The binary and the store directory: the manifest's "config", which an
     * admin overrides Cockpit's way (/etc/cockpit/certstore.override.json). */
    const config = { certstore: "certstore", store_dir: "" };

    const state = { page: "stores", store: "My", archived: false, certs: {}, selected: null, storeSeq: 0 };

    /* What to do, per exit status of certstore(1). */
    const ADVICE = {
        1: "This is a bug in certstore; the log of the system has more.",
        2: "Check the values entered.",
        3: "Nothing by that name: refresh the page and choose again.",
        4: "The name matches several certificates: choose by thumbprint.",
        5: "The file is not something certstore can read (certificate, PEM bundle, .p7b or .pfx): check the file.",
        6: "A root is trusted only on purpose: import it again with the destination \"Trusted Root\" if you trust it.",
        7: "It is already in the store; nothing was changed.",
        8: "The store itself has a problem: see the message, then run `certstore check`.",
        9: "The key token could not be used: check the token's configuration.",
        10: "Wrong password: enter the PFX password again.",
        11: "Refused by policy: a key that is not exportable stays in the token.",
        12: "The CA refused or failed: see its message.",
        13: "The assignment is in place but the usage's hook failed: see its output on the Log page.",
        14: "The certificate is not Valid: fix what its status says (e.g. trust its root), or assign it anyway with \"Assign even if not Valid\".",
        15: "The CA has not issued it yet: retrieve it later from the Requests tab.",
        16: "The certificate does not match a key of this store.",
        17: "The CA cannot be reached: check its address and the network.",
        18: "The CA's TLS certificate does not verify: trust its root first.",
    };

    /* ---- running the CLI -------------------------------------------------- */

    class CliError extends Error {
        constructor(message, status, problem) {
            super(message);
            this.status = status;
            this.problem = problem;
        }
    }

    function cliArgv(args) {
        const argv = [config.certstore];
        if (config.store_dir)
            argv.push("--store-dir", config.store_dir);
        return argv.concat(args);
    }

    /* Runs certstore ARGS; resolves with its standard output.  env: extra
     * NAME=VALUE entries (secrets go here, never in args). */
    function cli(args, env) {
        return new Promise((resolve, reject) => {
            cockpit.spawn(cliArgv(args), {
                superuser: "require",
                err: "message",
                environ: env || [],
            })
                .done(out => resolve(out))
                .fail((ex, out) => {
                    let msg = (ex.message || "").trim();
                    if (ex.problem === "access-denied")
                        msg = "Administrative access is needed: turn it on (\"Limited access\" at the top of Cockpit).";
                    else if (ex.problem === "not-found")
                        msg = "certstore is not installed (" + config.certstore + ").";
                    else if (!msg)
                        msg = cockpit.message(ex);
                    const e = new CliError(msg, ex.exit_status, ex.problem);
                    e.stdout = out;
                    reject(e);
                });
        });
    }

    function cliJson(args, env) {
        return cli(args.concat(["--json"]), env).then(out => out.trim() ? JSON.parse(out) : null);
    }

    function sh(argv) {
        return new Promise((resolve, reject) => {
            cockpit.spawn(argv, { superuser: "require", err: "message" })
                .done(resolve)
                .fail(ex => reject(new CliError(ex.message || cockpit.message(ex), ex.exit_status, ex.problem)));
        });
    }

    /* A root-owned scratch directory for one action; fn(dir) runs in it and
     * the directory goes afterwards, whatever happened.  The CLI's messages
     * name files by their path there: the admin knows them by their own
     * names, so the directory is taken out of the message. */
    function withTempDir(fn) {
        let dir = null;
        return sh(["mktemp", "-d", "/tmp/certstore-cockpit.XXXXXX"])
            .then(out => { dir = out.trim(); return fn(dir) })
            .catch(e => {
                if (dir && e.message)
                    e.message = e.message.split(dir + "/").join("");
                throw e;
            })
            .finally(() => { if (dir) sh(["rm", "-rf", "--", dir]).catch(() => {}) });
    }

    function writeFile(path, bytes) {
        return new Promise((resolve, reject) => {
            cockpit.file(path, { superuser: "require", binary: true }).replace(bytes)
                .done(resolve)
                .fail(ex => reject(new CliError(cockpit.message(ex))));
        });
    }

    function readFile(path) {
        return new Promise((resolve, reject) => {
            cockpit.file(path, { superuser: "require", binary: true }).read()
                .done(resolve)
                .fail(ex => reject(new CliError(cockpit.message(ex))));
        });
    }

    function readUpload(file) {
        return file.arrayBuffer().then(buf => new Uint8Array(buf));
    }

    /* A name for an uploaded file inside our directory: its own base name
     * (the CLI's messages name it), limited to harmless characters. */
    function safeName(name) {
        const base = String(name).split(/[\\/]/).pop().replace(/[^A-Za-z0-9._-]/g, "_");
        return base && base[0] !== "." ? base : "upload" + base;
    }

    /* ---- DOM helpers -------------------------------------------------------- */

    function $(id) {
        return document.getElementById(id);
    }

    function el(tag, attrs, ...children) {
        const e = document.createElement(tag);
        for (const [k, v] of Object.entries(attrs || {})) {
            if (v === undefined || v === null || v === false)
                continue;
            if (k === "class")
                e.className = v;
            else if (k.startsWith("on"))
                e.addEventListener(k.slice(2), v);
            else if (k === "text")
                e.textContent = v;
            else
                e.setAttribute(k, v === true ? "" : v);
        }
        for (const c of children.flat()) {
            if (c === null || c === undefined || c === false)
                continue;
            e.append(c instanceof Node ? c : document.createTextNode(String(c)));
        }
        return e;
    }

    function clear(node, ...children) {
        node.replaceChildren(...children.flat().filter(c => c !== null && c !== undefined && c !== false));
    }

    function fmtDate(iso) {
        if (!iso)
            return "—";
        const d = new Date(iso);
        return isNaN(d) ? String(iso) : d.toISOString().slice(0, 10);
    }

    function fmtTime(iso) {
        if (!iso)
            return "—";
        const d = new Date(iso);
        return isNaN(d) ? String(iso) : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
    }

    function statusClass(status) {
        if (!status)
            return "cs-status";
        const s = status.toLowerCase();
        if (s === "valid" || s === "assigned")
            return "cs-status cs-ok";
        if (s.includes("expired") || s.includes("disallowed") || s.includes("missing") ||
            s.includes("mismatch") || s.includes("invalid") || s.includes("untrusted"))
            return "cs-status cs-bad";
        return "cs-status cs-warn";
    }

    function statusCell(status, detail) {
        return el("td", { class: "cs-status-cell" },
                  el("span", { class: statusClass(status), text: status || "—" }),
                  detail ? el("div", { class: "cs-detail", text: detail }) : null);
    }

    function table(columns, rows, opts) {
        opts = opts || {};
        if (!rows.length)
            return el("p", { class: "cs-empty", text: opts.empty || "Nothing here." });
        return el("table", { class: "pf-table" + (opts.clickable ? " cs-clickable" : ""), id: opts.id },
                  el("thead", {}, el("tr", {}, columns.map(c => el("th", { text: c })))),
                  el("tbody", {}, rows));
    }

    function errorBox(e, what) {
        const box = el("div", { class: "cs-alert cs-danger", role: "alert" },
                       el("strong", { text: (what ? what + " failed" : "Failed") +
                                            (e.status ? " (exit status " + e.status + ")" : "") }),
                       el("pre", { class: "cs-message", text: e.message || String(e) }));
        const advice = ADVICE[e.status];
        if (advice)
            box.append(el("p", { class: "cs-advice", text: advice }));
        return box;
    }

    function notify(kind, text) {
        const a = el("div", { class: "cs-alert cs-" + kind, role: "status" }, el("pre", { class: "cs-message", text }));
        a.append(el("button", { type: "button", class: "cs-close", "aria-label": "Dismiss", onclick: () => a.remove() }, "×"));
        $("alerts").append(a);
        /* a success is news for a while, not a banner for the session */
        if (kind === "success")
            window.setTimeout(() => a.remove(), 15000);
    }

    function pageError(e, what) {
        const box = errorBox(e, what);
        box.append(el("button", { type: "button", class: "cs-close", "aria-label": "Dismiss", onclick: () => box.remove() }, "×"));
        $("alerts").append(box);
    }

    /* ---- dialogs --------------------------------------------------------------- */

    const dialog = {
        open(title, body, buttons) {
            $("dialog-title").textContent = title;
            clear($("dialog-body"), body);
            $("dialog-error").hidden = true;
            clear($("dialog-error"));
            this.setButtons(buttons);
            $("dialog-backdrop").hidden = false;
        },
        setButtons(buttons) {
            clear($("dialog-footer"), buttons.map(b => el("button", {
                type: "button",
                class: b.primary ? "pf-primary" : b.danger ? "pf-danger" : "",
                id: b.id,
                onclick: b.action,
            }, b.label)));
        },
        body(...nodes) {
            clear($("dialog-body"), nodes);
        },
        error(e, what) {
            clear($("dialog-error"), Array.from(errorBox(e, what).childNodes));
            $("dialog-error").hidden = false;
        },
        clearError() {
            $("dialog-error").hidden = true;
        },
        busy(on) {
            for (const b of $("dialog-footer").querySelectorAll("button"))
                b.disabled = on;
            $("dialog").classList.toggle("cs-busy", on);
        },
        close() {
            $("dialog-backdrop").hidden = true;
            clear($("dialog-body"));
        },
    };

    /* Runs an action from a dialog: busy while it runs, the CLI's message in
     * the dialog on failure (the dialog stays, so the admin can correct it). */
    function runAction(what, fn) {
        dialog.clearError();
        dialog.busy(true);
        return fn()
            .then(result => { dialog.busy(false); return result })
            .catch(e => { dialog.busy(false); dialog.error(e, what); throw e });
    }

    function field(label, input, help) {
        return el("div", { class: "cs-field" },
                  el("label", {}, el("span", { class: "cs-label", text: label }), input),
                  help ? el("div", { class: "cs-help", text: help }) : null);
    }

    function select(id, options, value) {
        return el("select", { id }, options.map(([v, l]) => el("option", { value: v, selected: v === value }, l)));
    }

    function checkbox(id, label, checked) {
        return el("label", { class: "cs-check" }, el("input", { type: "checkbox", id, checked: !!checked }), " " + label);
    }

    function val(id) {
        const e = $(id);
        return e ? e.value.trim() : "";
    }

    function checked(id) {
        const e = $(id);
        return !!(e && e.checked);
    }

    function downloadLink(name, bytes, type) {
        const url = URL.createObjectURL(new Blob([bytes], { type: type || "application/octet-stream" }));
        return el("a", { href: url, download: name, class: "cs-download", id: "download-link" }, "Download " + name);
    }

    /* ---- Stores ------------------------------------------------------------------ */

    function loadStore() {
        const where = $("store-table");
        const store = state.store;
        /* data-loaded says which store the table shows, once it shows it;
         * an answer for a tab left meanwhile is dropped */
        where.dataset.loaded = "";
        const seq = ++state.storeSeq;
        const load = store === "Request"
            ? cliJson(["requests"])
            : cliJson(["list", store].concat(state.archived ? ["--all"] : []));
        return load.then(items => {
            if (seq !== state.storeSeq)
                return;
            items = items || [];
            where.dataset.loaded = store;
            if (store === "Request")
                return clear(where, requestsTable(items));
            state.certs[store] = items;
            const rows = items.map(c => el("tr", {
                "data-thumbprint": c.thumbprint,
                class: state.selected === c.thumbprint ? "cs-selected" : "",
                onclick: () => showDetails(store, c.thumbprint),
            },
            el("td", { class: "cs-mono", text: c.thumbprint }),
            el("td", { text: c.friendly_name || "—" }),
            el("td", { text: fmtDate(c.not_after) }),
            el("td", { text: c.key ? "yes" : "no" }),
            statusCell(c.status, c.status_detail),
            el("td", { text: c.subject || "" })));
            clear(where, table(["Thumbprint", "Friendly name", "Expires", "Key", "Status", "Subject"], rows,
                               { clickable: true, id: "certs", empty: "No certificates in " + store + "." }));
        }).catch(e => {
            if (seq !== state.storeSeq)
                return;
            clear(where, errorBox(e, "Listing " + store));
            where.dataset.loaded = store;
        });
    }

    function requestsTable(items) {
        const rows = items.map(r => el("tr", { "data-id": r.id },
                                       el("td", { text: r.id }),
                                       el("td", {}, el("div", { text: r.subject || "" }),
                                          r.friendly_name ? el("div", { class: "cs-detail", text: r.friendly_name }) : null),
                                       el("td", { text: r.key || "" }),
                                       el("td", { text: r.ca ? r.ca + (r.ca_request_id ? " (CA's ID " + r.ca_request_id + ")" : "") : "offline: accept the CA's response" }),
                                       el("td", { text: fmtTime(r.created) }),
                                       el("td", {}, r.ca ? el("button", {
                                           type: "button",
                                           onclick: () => simpleAction("Retrieving request " + r.id,
                                                                       ["request", "--retrieve", String(r.id)]),
                                       }, "Retrieve") : null, " ",
                                       el("button", {
                                           type: "button",
                                           class: "pf-danger",
                                           onclick: () => simpleAction("Cancelling request " + r.id,
                                                                       ["requests", "--cancel", String(r.id)]),
                                       }, "Cancel"))));
        return table(["ID", "Subject", "Key", "CA", "Created", ""], rows, { id: "requests", empty: "No pending requests." });
    }

    /* One CLI command with its text output as a notification. */
    function simpleAction(what, args) {
        return cli(args).then(out => {
            notify("success", out.trim() || what + ": done");
            refresh();
        }).catch(e => pageError(e, what));
    }

    function kv(obj, prefix) {
        const rows = [];
        for (const [k, v] of Object.entries(obj || {})) {
            if (v === null || v === undefined || k === "chain")
                continue;
            const label = (prefix ? prefix + " " : "") + k.replace(/_/g, " ");
            if (Array.isArray(v))
                rows.push(el("tr", {}, el("th", { text: label }),
                             el("td", { text: v.map(x => typeof x === "object" ? JSON.stringify(x) : x).join(", ") })));
            else if (typeof v === "object")
                rows.push(...kv(v, label));
            else
                rows.push(el("tr", {}, el("th", { text: label }), el("td", { class: /thumbprint|sha|serial/.test(k) ? "cs-mono" : "", text: String(v) })));
        }
        return rows;
    }

    function showDetails(store, thumbprint) {
        state.selected = thumbprint;
        for (const tr of document.querySelectorAll("#certs tr"))
            tr.classList.toggle("cs-selected", tr.dataset.thumbprint === thumbprint);
        const box = $("cert-details");
        box.hidden = false;
        clear(box, el("p", { text: "Loading…" }));
        cliJson(["show", thumbprint, "--store", store]).then(cert => {
            /* show's "status" is verify's verdict: status, detail, key_status, chain */
            const verdict = cert.status || {};
            const chain = verdict.chain || [];
            const status = verdict.status;
            const detail = verdict.detail;
            const props = Object.assign({}, cert, { status: undefined, key_status: verdict.key_status });
            clear(box,
                  el("header", { class: "cs-card-header" },
                     el("h2", { text: cert.friendly_name || cert.subject || thumbprint }),
                     el("button", { type: "button", class: "cs-close", "aria-label": "Close", onclick: () => { box.hidden = true; state.selected = null } }, "×")),
                  el("p", {}, el("span", { class: statusClass(status), id: "details-status", text: status || "" }),
                     detail ? " " + detail : ""),
                  certActions(store, cert),
                  el("table", { class: "cs-kv", id: "details-table" }, kv(props)),
                  el("h3", { text: "Certification path" }),
                  el("ol", { class: "cs-chain", id: "details-chain" },
                     chain.map(c => el("li", {},
                                       el("span", { text: c.subject || c.name || JSON.stringify(c) }),
                                       c.store ? el("span", { class: "cs-detail", text: " (" + c.store + ")" }) : null,
                                       c.thumbprint ? el("span", { class: "cs-mono cs-detail", text: " " + c.thumbprint }) : null))));
        }).catch(e => clear(box, errorBox(e, "Showing " + thumbprint)));
    }

    function certActions(store, cert) {
        const id = cert.thumbprint || cert.sha1;
        const buttons = [];
        if (store === "My") {
            buttons.push(el("button", { type: "button", id: "btn-assign", onclick: () => assignDialog(id) }, "Assign to usage…"));
            buttons.push(el("button", { type: "button", id: "btn-renew", onclick: () => renewDialog(id, cert) }, "Renew…"));
        }
        buttons.push(el("button", { type: "button", id: "btn-export", onclick: () => exportDialog(store, id, cert) }, "Export…"));
        if (store !== "Disallowed" && store !== "Request")
            buttons.push(el("button", { type: "button", class: "pf-danger", id: "btn-disallow", onclick: () => disallowDialog(store, id, cert) }, "Move to Disallowed…"));
        return el("div", { class: "cs-actions" }, buttons);
    }

    /* ---- actions ------------------------------------------------------------------- */

    function resultList(res) {
        /* import/accept --json: an object with counts and items, shown as the
         * CLI gives them. */
        if (!res)
            return el("p", { text: "Done." });
        /* accept --json: the installed certificate, as show --json */
        if (res.thumbprint) {
            const st = res.status || {};
            return el("ul", { class: "cs-result", id: "import-result" },
                      el("li", {}, el("strong", { text: "installed " }), "→ " + res.store + " ",
                         el("span", { text: res.subject || "" }),
                         el("span", { class: "cs-mono cs-detail", text: " " + res.thumbprint }),
                         el("div", {}, el("span", { class: statusClass(st.status), text: st.status || "" }),
                            st.detail ? el("span", { class: "cs-detail", text: " " + st.detail }) : null)));
        }
        const items = res.items || res.certificates || [];
        return el("div", {},
                  el("ul", { class: "cs-result", id: "import-result" },
                     items.map(i => el("li", {},
                                       el("strong", { text: (i.outcome || i.result || i.status || "") + " " }),
                                       (i.store ? "→ " + i.store + " " : ""),
                                       el("span", { text: i.subject || "" }),
                                       i.thumbprint ? el("span", { class: "cs-mono cs-detail", text: " " + i.thumbprint }) : null,
                                       i.message ? el("div", { class: "cs-detail", text: i.message }) : null))),
                  res.key && typeof res.key === "object"
                      ? el("p", { class: "cs-wrap", text: "Key in the token" + (res.key.exportable ? " (exportable)" : " (not exportable)") + ": " + (res.key.uri || "") })
                      : null);
    }

    function isPfx(name) {
        return /\.(pfx|p12)$/i.test(name);
    }

    function importDialog() {
        const file = el("input", { type: "file", id: "import-file", accept: ".cer,.crt,.pem,.der,.p7b,.p7c,.pfx,.p12" });
        const pfxFields = el("div", { id: "import-pfx", hidden: true },
                             field("PFX password", el("input", { type: "password", id: "import-password", autocomplete: "off" })),
                             checkbox("import-exportable", "Mark the key as exportable"));
        const rootConfirm = el("div", { id: "import-root-confirm", hidden: true, class: "cs-alert cs-warning" },
                               checkbox("import-trust", "I trust this root: programs using certstore will accept every certificate it issues."));
        const dest = select("import-store", [
            ["", "Automatic: end-entity to Personal, intermediates to CA (roots are not trusted)"],
            ["My", "Personal (My)"],
            ["CA", "Intermediate (CA)"],
            ["Root", "Trusted Root (Root)"],
            ["Disallowed", "Untrusted (Disallowed)"],
        ], "");
        file.addEventListener("change", () => { pfxFields.hidden = !(file.files[0] && isPfx(file.files[0].name)) });
        dest.addEventListener("change", () => { rootConfirm.hidden = dest.value !== "Root" });
        dialog.open("Import a certificate", [
            field("File (.cer, .crt, .pem, .p7b, .pfx)", file),
            pfxFields,
            field("Destination store", dest),
            rootConfirm,
            field("Friendly name (optional)", el("input", { type: "text", id: "import-name" })),
        ], [
            { label: "Import", primary: true, id: "import-run", action: doImport },
            { label: "Cancel", action: () => dialog.close() },
        ]);

        function doImport() {
            const f = file.files[0];
            if (!f)
                return dialog.error(new CliError("Choose a file to import."), "Import");
            if (dest.value === "Root" && !checked("import-trust"))
                return dialog.error(new CliError("Trusting a root is a decision: tick \"I trust this root\" to import it into Trusted Root."), "Import");
            const pfx = isPfx(f.name);
            const args = ["import"];
            const env = [];
            if (dest.value)
                args.push("--store", dest.value);
            if (val("import-name"))
                args.push("--friendly-name", val("import-name"));
            if (pfx) {
                args.push("--password-env", "CERTSTORE_PFX_PASSWORD");
                env.push("CERTSTORE_PFX_PASSWORD=" + $("import-password").value);
                if (checked("import-exportable"))
                    args.push("--exportable");
            }
            runAction("Import", () => withTempDir(dir => readUpload(f).then(bytes => {
                const path = dir + "/" + safeName(f.name);
                return writeFile(path, bytes).then(() => cliJson(args.concat([path]), env));
            }))).then(res => {
                dialog.body(el("div", { class: "cs-alert cs-success", id: "import-done" }, "Imported " + f.name), resultList(res));
                dialog.setButtons([{ label: "Close", primary: true, id: "dialog-close", action: () => dialog.close() }]);
                refresh();
            }).catch(() => {});
        }
    }

    function acceptDialog() {
        const file = el("input", { type: "file", id: "accept-file", accept: ".cer,.crt,.pem,.der,.p7b,.p7c" });
        dialog.open("Accept a CA's response", [
            el("p", { class: "cs-help", text: "The certificate a CA issued for a pending request (certreq -accept): it is bound to the request's key in Personal." }),
            field("Response file (.cer, .crt, .p7b)", file),
        ], [
            { label: "Accept", primary: true, id: "accept-run", action: run },
            { label: "Cancel", action: () => dialog.close() },
        ]);

        function run() {
            const f = file.files[0];
            if (!f)
                return dialog.error(new CliError("Choose the CA's response file."), "Accept");
            runAction("Accept", () => withTempDir(dir => readUpload(f).then(bytes => {
                const path = dir + "/" + safeName(f.name);
                return writeFile(path, bytes).then(() => cliJson(["accept", path]));
            }))).then(res => {
                dialog.body(el("div", { class: "cs-alert cs-success", id: "accept-done" }, "Accepted " + f.name), resultList(res));
                dialog.setButtons([{ label: "Close", primary: true, id: "dialog-close", action: () => dialog.close() }]);
                refresh();
            }).catch(() => {});
        }
    }

    /* certstore's --at takes ISO 8601 UTC; a datetime-local input is local time. */
    function atArgument(local) {
        if (!local)
            return null;
        const d = new Date(local);
        return isNaN(d) ? local : d.toISOString().replace(/\.\d+Z$/, "Z");
    }

    function assignDialog(id, usage) {
        const certSelect = id ? null : select("assign-cert", (state.certs.My || []).map(c =>
            [c.thumbprint, (c.friendly_name || c.subject) + " — " + c.status + " — " + c.thumbprint.slice(0, 8)]), "");
        dialog.open(usage ? "Roll usage " + usage : "Assign to usages", [
            certSelect ? field("Certificate (Personal)", certSelect) : el("p", { class: "cs-mono", text: id }),
            field("Usages (comma-separated)", el("input", { type: "text", id: "assign-usages", value: usage || "Default" })),
            field("At (optional: stage the change for this time)", el("input", { type: "datetime-local", id: "assign-at" }),
                  "Empty: now. Otherwise the roll happens at the first `certstore tick` after this time."),
            checkbox("assign-force", "Assign even if not Valid"),
        ], [
            { label: "Assign", primary: true, id: "assign-run", action: run },
            { label: "Cancel", action: () => dialog.close() },
        ]);

        function run() {
            const cert = id || (certSelect && certSelect.value);
            const args = ["assign", cert, "--usage", val("assign-usages")];
            const at = atArgument(val("assign-at"));
            if (at)
                args.push("--at", at);
            if (checked("assign-force"))
                args.push("--force");
            runAction("Assign", () => cli(args)).then(out => {
                dialog.close();
                notify("success", out.trim() || "Assigned");
                refresh();
            }).catch(() => {});
        }
    }

    function renewDialog(id, cert) {
        dialog.open("Renew " + (cert.friendly_name || id), [
            el("p", { text: "Requests the certificate again (same subject, names and key type) from the CA that issued it; every usage of the old one moves to the new one." }),
            checkbox("renew-new-key", "Make a new key in the token"),
        ], [
            { label: "Renew", primary: true, id: "renew-run", action: run },
            { label: "Cancel", action: () => dialog.close() },
        ]);

        function run() {
            const args = ["renew", id];
            if (checked("renew-new-key"))
                args.push("--new-key");
            runAction("Renew", () => cli(args)).then(out => {
                dialog.body(el("div", { class: "cs-alert cs-success", id: "renew-done" }, "Renewed"),
                            el("pre", { class: "cs-report", text: out }));
                dialog.setButtons([{ label: "Close", primary: true, id: "dialog-close", action: () => dialog.close() }]);
                state.selected = null;
                $("cert-details").hidden = true;
                refresh();
            }).catch(() => {});
        }
    }

    function disallowDialog(store, id, cert) {
        dialog.open("Move to Disallowed", [
            el("p", { text: "Stop trusting " + (cert.subject || id) + ": it, and every chain through it, becomes Disallowed." }),
        ], [
            { label: "Move to Disallowed", danger: true, id: "disallow-run", action: run },
            { label: "Cancel", action: () => dialog.close() },
        ]);

        function run() {
            runAction("Move", () => cli(["move", id, "--store", store, "--to", "Disallowed"])).then(out => {
                dialog.close();
                notify("success", out.trim() || "Moved to Disallowed");
                $("cert-details").hidden = true;
                refresh();
            }).catch(() => {});
        }
    }

    function exportDialog(store, id, cert) {
        const formats = [["pem", "PEM (.pem, .crt)"], ["der", "DER (.cer)"], ["p7b", "PKCS#7 (.p7b)"]];
        /* Only an exportable key may leave the token: the CLI (and the token)
         * refuse anyway; the page does not offer what would be refused. */
        if (cert.exportable)
            formats.push(["pfx", "PFX with the private key (.pfx)"]);
        const fmt = select("export-format", formats, "pem");
        const pfx = el("div", { id: "export-pfx", hidden: true },
                       field("PFX password", el("input", { type: "password", id: "export-password", autocomplete: "off" })),
                       checkbox("export-legacy", "Legacy encryption (3DES/RC2) for old consumers"));
        fmt.addEventListener("change", () => { pfx.hidden = fmt.value !== "pfx" });
        dialog.open("Export " + (cert.friendly_name || id), [
            field("Format", fmt),
            cert.exportable ? null : el("p", { class: "cs-help", text: "The private key is not exportable: it stays in the token." }),
            checkbox("export-chain", "Include the chain"),
            pfx,
        ], [
            { label: "Export", primary: true, id: "export-run", action: run },
            { label: "Cancel", action: () => dialog.close() },
        ]);

        function run() {
            const format = fmt.value;
            const name = (cert.friendly_name || id).replace(/[^A-Za-z0-9._-]/g, "_") + "." + (format === "der" ? "cer" : format);
            const env = [];
            runAction("Export", () => withTempDir(dir => {
                const args = ["export", id, "--store", store, "--format", format, "-o", dir + "/" + name];
                if (checked("export-chain"))
                    args.push("--chain");
                if (format === "pfx") {
                    args.push("--password-env", "CERTSTORE_PFX_PASSWORD");
                    env.push("CERTSTORE_PFX_PASSWORD=" + $("export-password").value);
                    if (checked("export-legacy"))
                        args.push("--legacy");
                }
                return cli(args, env).then(() => readFile(dir + "/" + name));
            })).then(bytes => {
                dialog.body(el("p", {}, downloadLink(name, bytes)));
                dialog.setButtons([{ label: "Close", primary: true, action: () => dialog.close() }]);
            }).catch(() => {});
        }
    }

    /* ---- the request wizard ---------------------------------------------------------- */

    function requestWizard() {
        const w = {
            step: 0,
            data: { mode: "ca", ca: "", cn: "", org: "", ou: "", country: "", state: "", city: "",
                    sans: "", key: "rsa:2048", hash: "sha256", exportable: false, name: "", usages: "" },
            profiles: [],
        };
        const steps = [
            { title: "Certification authority", render: stepCa, read: readCa },
            { title: "Subject and names", render: stepSubject, read: readSubject },
            { title: "Key", render: stepKey, read: readKey },
            { title: "Friendly name and usages", render: stepName, read: readName },
            { title: "Summary", render: stepSummary, read: () => null },
        ];

        cliJson(["ca", "list"]).catch(() => []).then(list => {
            w.profiles = (list || []).map(p => p.name || p.profile || String(p));
            if (w.profiles.length)
                w.data.ca = w.profiles[0];
            else
                w.data.mode = "file";
            show();
        });
        dialog.open("Request a certificate", el("p", { text: "Loading the CA profiles…" }), []);

        function show() {
            const s = steps[w.step];
            $("dialog-title").textContent = "Request a certificate — " + (w.step + 1) + ". " + s.title;
            dialog.clearError();
            dialog.body(el("ol", { class: "cs-steps" }, steps.map((x, i) =>
                el("li", { class: i === w.step ? "active" : i < w.step ? "done" : "" }, x.title))),
                        el("div", { class: "cs-step", id: "wizard-step-" + (w.step + 1) }, s.render()));
            const buttons = [];
            if (w.step > 0)
                buttons.push({ label: "Back", id: "wizard-back", action: () => { s.read(); w.step--; show() } });
            if (w.step < steps.length - 1)
                buttons.push({ label: "Next", primary: true, id: "wizard-next", action: next });
            else
                buttons.push({ label: w.data.mode === "ca" ? "Request" : "Write the request", primary: true, id: "wizard-finish", action: finish });
            buttons.push({ label: "Cancel", action: () => dialog.close() });
            dialog.setButtons(buttons);
        }

        function next() {
            const problem = steps[w.step].read();
            if (problem)
                return dialog.error(new CliError(problem), "This step");
            w.step++;
            show();
        }

        function stepCa() {
            const d = w.data;
            return [
                el("label", { class: "cs-radio" }, el("input", { type: "radio", name: "wz-mode", value: "ca", id: "wz-mode-ca", checked: d.mode === "ca", disabled: !w.profiles.length }),
                   " Send it now to a CA profile"),
                field("CA profile", select("wz-ca", w.profiles.map(p => [p, p]), d.ca),
                      w.profiles.length ? null : "No CA profiles: see `certstore ca` and certstore.conf(5)."),
                el("label", { class: "cs-radio" }, el("input", { type: "radio", name: "wz-mode", value: "file", id: "wz-mode-file", checked: d.mode === "file" }),
                   " Write a request file for an offline CA (accept its response later)"),
            ];
        }
        function readCa() {
            w.data.mode = checked("wz-mode-file") ? "file" : "ca";
            w.data.ca = val("wz-ca");
            return w.data.mode === "ca" && !w.data.ca ? "Choose a CA profile." : null;
        }

        function text(id, value, attrs) {
            return el("input", Object.assign({ type: "text", id, value }, attrs || {}));
        }
        function stepSubject() {
            const d = w.data;
            return [
                field("Common name (CN)", text("wz-cn", d.cn, { placeholder: "www.example.com" })),
                el("div", { class: "cs-grid" },
                   field("Organisation (O)", text("wz-org", d.org)),
                   field("Unit (OU)", text("wz-ou", d.ou)),
                   field("Country (C)", text("wz-country", d.country, { size: 2 })),
                   field("State (ST)", text("wz-state", d.state)),
                   field("City (L)", text("wz-city", d.city))),
                field("Subject alternative names, one per line", el("textarea", { id: "wz-sans", rows: 3, placeholder: "dns:www.example.com\nip:192.0.2.1" }, d.sans),
                      "dns:NAME, ip:ADDRESS, email:ADDRESS or uri:URI"),
            ];
        }
        function readSubject() {
            const d = w.data;
            for (const k of ["cn", "org", "ou", "country", "state", "city"])
                d[k] = val("wz-" + k);
            d.sans = $("wz-sans").value;
            return d.cn ? null : "A common name is needed.";
        }

        function stepKey() {
            const d = w.data;
            return [
                field("Key type and size", select("wz-key", [["rsa:2048", "RSA 2048"], ["rsa:3072", "RSA 3072"], ["rsa:4096", "RSA 4096"],
                                                             ["ec:p256", "ECDSA P-256"], ["ec:p384", "ECDSA P-384"]], d.key)),
                field("Signature hash", select("wz-hash", [["sha256", "SHA-256"], ["sha384", "SHA-384"], ["sha512", "SHA-512"]], d.hash)),
                checkbox("wz-exportable", "Mark the private key as exportable", d.exportable),
                el("p", { class: "cs-help", text: "The key is made in the store's token. Without \"exportable\" it can never leave it." }),
            ];
        }
        function readKey() {
            w.data.key = val("wz-key");
            w.data.hash = val("wz-hash");
            w.data.exportable = checked("wz-exportable");
            return null;
        }

        function stepName() {
            const d = w.data;
            return [
                field("Friendly name (optional: certstore makes one)", text("wz-name", d.name)),
                field("Assign to usages once Valid (optional, comma-separated)", text("wz-usages", d.usages, { placeholder: "Default" })),
            ];
        }
        function readName() {
            w.data.name = val("wz-name");
            w.data.usages = val("wz-usages");
            return null;
        }

        function requestArgs(out) {
            const d = w.data;
            const args = ["request", "--cn", d.cn];
            const opt = { org: "--org", ou: "--ou", country: "--country", state: "--state", city: "--city" };
            for (const [k, o] of Object.entries(opt))
                if (d[k])
                    args.push(o, d[k]);
            for (const san of d.sans.split(/\r?\n/).map(s => s.trim()).filter(Boolean))
                args.push("--san", san);
            args.push("--key", d.key, "--hash", d.hash);
            if (d.exportable)
                args.push("--exportable");
            if (d.name)
                args.push("--friendly-name", d.name);
            if (d.usages)
                args.push("--usage", d.usages);
            if (d.mode === "ca")
                args.push("--ca", d.ca);
            else
                args.push("--out", out);
            return args;
        }

        /* The summary is the CLI's own dry run: what it would request. */
        function stepSummary() {
            const box = el("div", { id: "wizard-summary" }, el("p", { text: "Checking with certstore…" }));
            cli(requestArgs("request.req").concat(["--dry-run"]))
                .then(out => clear(box, el("pre", { class: "cs-report", id: "wizard-summary-text", text: out })))
                .catch(e => clear(box, errorBox(e, "The request")));
            return box;
        }

        function finish() {
            runAction("The request", () => withTempDir(dir => {
                const out = dir + "/request.req";
                return cli(requestArgs(out)).then(report =>
                    w.data.mode === "file" ? readFile(out).then(bytes => ({ report, bytes })) : { report });
            })).then(({ report, bytes }) => {
                $("dialog-title").textContent = "Request a certificate — result";
                dialog.body(el("div", { class: "cs-alert cs-success", id: "wizard-done" },
                               w.data.mode === "ca" ? "The CA answered." : "The request is written; send it to the CA, then accept its response."),
                            el("pre", { class: "cs-report", id: "wizard-report", text: report }),
                            bytes ? el("p", {}, downloadLink((w.data.cn || "request").replace(/[^A-Za-z0-9._-]/g, "_") + ".req", bytes, "application/pkcs10")) : null);
                dialog.setButtons([{ label: "Close", primary: true, id: "dialog-close", action: () => dialog.close() }]);
                refresh();
            }).catch(() => {});
        }
    }

    /* ---- Usages ------------------------------------------------------------------------- */

    function loadUsages() {
        const where = $("usages-table");
        where.dataset.loaded = "";
        return Promise.all([cliJson(["usages"]), cliJson(["log", "--action", "hook"]).catch(() => []),
                            cliJson(["list", "My"]).catch(() => [])])
            .then(([usages, hooks, my]) => {
                state.certs.My = my || [];
                /* hook entries: "NAME THUMBPRINT COMMAND: OUTCOME", then its output */
                const lastHook = {};
                for (const h of hooks || []) {
                    const m = /^([A-Za-z0-9._-]+) [0-9A-F]+ (.*)$/m.exec(h.detail || "");
                    if (m)
                        lastHook[m[1]] = m[2];
                }
                const rows = (usages || []).map(u => el("tr", { "data-usage": u.usage },
                    el("td", { class: "cs-strong", text: u.usage }),
                    el("td", {}, el("div", { text: u.friendly_name || u.subject || "—" }),
                       u.thumbprint ? el("div", { class: "cs-mono cs-detail", text: u.thumbprint }) : null),
                    el("td", { text: fmtDate(u.not_after) }),
                    statusCell(u.status, u.detail),
                    el("td", { text: lastHook[u.usage] || "—", class: "cs-detail cs-wrap" }),
                    el("td", {}, u.staged ? [el("div", { class: "cs-mono", text: u.staged.thumbprint }),
                                              el("div", { class: "cs-detail", text: "at " + fmtTime(u.staged.at) })] : "—"),
                    el("td", {}, el("div", { class: "cs-actions" },
                       el("button", { type: "button", onclick: () => assignDialog(null, u.usage) }, "Roll…"),
                       u.previous ? el("button", { type: "button", onclick: () => simpleAction("Back to previous", ["assign", "--previous", "--usage", u.usage]) }, "Previous") : null,
                       el("button", { type: "button", class: "pf-danger", onclick: () => confirmUnassign(u.usage) }, "Unassign")))));
                clear(where, table(["Usage", "Certificate", "Expires", "Status", "Served by (last hook)", "Staged roll", ""], rows,
                                   { id: "usages", empty: "No usages yet: assign a certificate from Personal." }));
            }).catch(e => clear(where, errorBox(e, "Listing the usages")))
            .finally(() => { where.dataset.loaded = "1" });
    }

    function confirmUnassign(usage) {
        dialog.open("Unassign " + usage, el("p", { text: "Usage " + usage + " stops being published; its certificate stays in Personal." }), [
            { label: "Unassign", danger: true, id: "unassign-run", action: () => runAction("Unassign", () => cli(["unassign", "--usage", usage])).then(() => { dialog.close(); refresh() }).catch(() => {}) },
            { label: "Cancel", action: () => dialog.close() },
        ]);
    }

    /* ---- Expiry -------------------------------------------------------------------------- */

    function loadExpiry() {
        $("expiry-chart").dataset.loaded = "";
        return Promise.all([cliJson(["list"]), cliJson(["usages"])]).then(([certs, usages]) => {
            const now = Date.now();
            const items = [];
            for (const c of certs || [])
                items.push({ kind: "certificate", label: (c.friendly_name || c.subject || c.thumbprint), store: c.store,
                             from: Date.parse(c.not_before), to: Date.parse(c.not_after), status: c.status, id: c.thumbprint });
            for (const u of usages || [])
                if (u.not_after)
                    items.push({ kind: "usage", label: "Usage " + u.usage, store: "", from: NaN, to: Date.parse(u.not_after), status: u.status, id: u.usage });
            items.sort((a, b) => (a.to || 0) - (b.to || 0));
            clear($("expiry-chart"), timeline(items, now));
            const soon = items.filter(i => i.to <= now + HORIZON_DAYS * DAY);
            clear($("expiry-table"), table(["What", "Store", "Expires", "Days left", "Status"], soon.map(i => el("tr", {},
                el("td", { text: i.label }), el("td", { text: i.store || "" }), el("td", { text: fmtDate(new Date(i.to).toISOString()) }),
                el("td", { text: String(Math.floor((i.to - now) / DAY)) }), statusCell(i.status))),
                { id: "expiry-soon", empty: "Nothing expires in the next " + HORIZON_DAYS + " days." }));
        }).catch(e => clear($("expiry-chart"), errorBox(e, "Reading the store")))
            .finally(() => { $("expiry-chart").dataset.loaded = "1" });
    }

    /* An SVG: one row per certificate or usage, the validity as a bar over
     * [now - 30 days, now + 90 days], the expiry as a dot, today as a line. */
    function timeline(items, now) {
        const NS = "http://www.w3.org/2000/svg";
        const left = 260, width = 640, rowH = 22, top = 30;
        const start = now - PAST_DAYS * DAY, end = now + HORIZON_DAYS * DAY;
        const x = t => left + Math.max(0, Math.min(1, (t - start) / (end - start))) * width;
        const h = top + Math.max(items.length, 1) * rowH + 10;
        const svg = document.createElementNS(NS, "svg");
        svg.setAttribute("viewBox", "0 0 " + (left + width + 20) + " " + h);
        svg.setAttribute("class", "cs-timeline");
        svg.setAttribute("id", "expiry-timeline");
        svg.setAttribute("role", "img");
        svg.setAttribute("aria-label", "Expiry timeline");
        const add = (tag, attrs, text) => {
            const e = document.createElementNS(NS, tag);
            for (const [k, v] of Object.entries(attrs))
                e.setAttribute(k, v);
            if (text !== undefined)
                e.textContent = text;
            svg.append(e);
            return e;
        };
        for (let d = -PAST_DAYS; d <= HORIZON_DAYS; d += 30) {
            const t = now + d * DAY;
            add("line", { x1: x(t), x2: x(t), y1: top - 8, y2: h - 10, class: "cs-grid-line" });
            add("text", { x: x(t), y: top - 12, "text-anchor": "middle", class: "cs-axis" },
                d === 0 ? "today" : (d > 0 ? "+" : "") + d + " d");
        }
        if (!items.length)
            add("text", { x: left, y: top + 15, class: "cs-axis" }, "The store holds no certificates.");
        items.forEach((it, i) => {
            const y = top + i * rowH;
            const cls = it.to < now ? "cs-expired" : it.to <= now + 30 * DAY ? "cs-soon" : it.to <= now + HORIZON_DAYS * DAY ? "cs-warnbar" : "cs-fine";
            const g = add("g", { class: "cs-row " + cls, "data-kind": it.kind, "data-id": it.id });
            const label = document.createElementNS(NS, "text");
            label.setAttribute("x", left - 8);
            label.setAttribute("y", y + 14);
            label.setAttribute("text-anchor", "end");
            label.setAttribute("class", it.kind === "usage" ? "cs-label-usage" : "cs-label-cert");
            label.textContent = (it.label.length > 34 ? it.label.slice(0, 33) + "…" : it.label) + (it.store ? " (" + it.store + ")" : "");
            g.append(label);
            const from = isNaN(it.from) ? start : it.from;
            const bar = document.createElementNS(NS, "rect");
            bar.setAttribute("x", x(from));
            bar.setAttribute("y", y + 4);
            bar.setAttribute("width", Math.max(2, x(it.to) - x(from)));
            bar.setAttribute("height", 12);
            bar.setAttribute("rx", 3);
            g.append(bar);
            if (it.to >= start && it.to <= end) {
                const dot = document.createElementNS(NS, "circle");
                dot.setAttribute("cx", x(it.to));
                dot.setAttribute("cy", y + 10);
                dot.setAttribute("r", 5);
                g.append(dot);
            }
            /* past the horizon: the date at the bar's end, so no bar is mute */
            if (it.to > end) {
                const note = document.createElementNS(NS, "text");
                note.setAttribute("x", x(end) - 6);
                note.setAttribute("y", y + 14);
                note.setAttribute("text-anchor", "end");
                note.setAttribute("class", "cs-bar-note");
                note.textContent = "→ " + new Date(it.to).toISOString().slice(0, 10);
                g.append(note);
            }
            const title = document.createElementNS(NS, "title");
            title.textContent = it.label + ": expires " + new Date(it.to).toISOString().slice(0, 10) + " (" + (it.status || "") + ")";
            g.append(title);
        });
        add("line", { x1: x(now), x2: x(now), y1: top - 8, y2: h - 10, class: "cs-today" });
        return svg;
    }

    /* ---- Log ------------------------------------------------------------------------------- */

    function loadLog() {
        const args = ["log"];
        if (val("log-action"))
            args.push("--action", val("log-action"));
        if (val("log-usage"))
            args.push("--usage", val("log-usage"));
        $("log-table").dataset.loaded = "";
        return cliJson(args).then(entries => {
            const rows = (entries || []).slice().reverse().map(e => el("tr", {},
                el("td", { text: fmtTime(e.time) }), el("td", { text: String(e.uid) }),
                el("td", { class: "cs-strong", text: e.action }), el("td", { class: "cs-wrap", text: e.detail || "" })));
            clear($("log-table"), table(["Time", "UID", "Action", "Detail"], rows, { id: "log", empty: "The log is empty." }));
        }).catch(e => clear($("log-table"), errorBox(e, "Reading the log")))
            .finally(() => { $("log-table").dataset.loaded = "1" });
    }

    /* ---- navigation ----------------------------------------------------------------------------- */

    function refresh() {
        if (state.page === "stores")
            return loadStore();
        if (state.page === "usages")
            return loadUsages();
        if (state.page === "expiry")
            return loadExpiry();
        return loadLog();
    }

    function go(page, store) {
        state.page = page;
        if (store)
            state.store = store;
        for (const b of $("nav").querySelectorAll("button"))
            b.classList.toggle("active", b.dataset.page === page);
        for (const b of $("store-tabs").querySelectorAll("button"))
            b.classList.toggle("active", b.dataset.store === state.store);
        for (const p of ["stores", "usages", "expiry", "log"])
            $("page-" + p).hidden = p !== page;
        state.shown = true;
        const path = page === "stores" ? [page, state.store] : [page];
        if (cockpit.location.path.join("/") !== path.join("/"))
            cockpit.location.go(path);
        return refresh();
    }

    function fromLocation() {
        const [page, store] = cockpit.location.path;
        const p = ["stores", "usages", "expiry", "log"].includes(page) ? page : "stores";
        const s = STORES.includes(store) ? store : null;
        /* our own cockpit.location.go() comes back here: load once */
        if (state.shown && p === state.page && (p !== "stores" || !s || s === state.store))
            return;
        go(p, s);
    }

    function loadConfig() {
        /* manifests.json is the bridge's view, overrides applied. */
        return fetch("../manifests.json", { credentials: "same-origin" })
            .then(r => r.ok ? r.json() : {})
            .then(m => Object.assign(config, (m.certstore && m.certstore.config) || {}))
            .catch(() => {});
    }

    function init() {
        for (const b of $("nav").querySelectorAll("button"))
            b.addEventListener("click", () => go(b.dataset.page));
        for (const b of $("store-tabs").querySelectorAll("button"))
            b.addEventListener("click", () => { state.selected = null; $("cert-details").hidden = true; go("stores", b.dataset.store) });
        $("show-archived").addEventListener("change", e => { state.archived = e.target.checked; refresh() });
        $("btn-import").addEventListener("click", importDialog);
        $("btn-request").addEventListener("click", requestWizard);
        $("btn-accept").addEventListener("click", acceptDialog);
        $("log-apply").addEventListener("click", loadLog);
        document.addEventListener("keydown", e => { if (e.key === "Escape" && !$("dialog-backdrop").hidden) dialog.close() });
        cockpit.addEventListener("locationchanged", fromLocation);
        loadConfig().then(() => {
            $("store-dir-label").textContent = "Store: " + (config.store_dir || "/var/lib/certstore");
            fromLocation();
            document.body.dataset.ready = "1";
        });
    }

    document.addEventListener("DOMContentLoaded", init);
}());
