/** @module dashboard/layout — the page shell (nav, flash message, sign-out) and the control forms. */
import { html, raw, type Html, type SafeHtml } from "./html.ts";

export interface Flash {
  kind: "ok" | "error";
  text: string;
}

const NAV = [
  ["/", "Overview"],
  ["/jobs", "Jobs"],
  ["/runs", "Runs"],
] as const;

export function page(options: {
  title: string;
  path: string;
  flash?: Flash | null;
  signedIn?: boolean;
  body: Html;
}): string {
  const section = options.path === "/" ? "/" : `/${options.path.split("/")[1]}`;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${options.title} · Sundial</title>
        <link rel="stylesheet" href="/assets/app.css" />
        ${options.signedIn === false ? "" : raw('<script src="/assets/app.js" defer></script>')}
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/"><span class="sun" aria-hidden="true"></span>Sundial</a>
          ${
            options.signedIn === false
              ? ""
              : html`<nav>
                    ${NAV.map(([href, label]) => html`<a href="${href}" ${section === href ? raw(' aria-current="page"') : ""}>${label}</a>`)}
                  </nav>
                  <span class="live-dot" id="live" title="Live updates off">live</span>
                  <form method="post" action="/logout" class="signout"><button class="link">Sign out</button></form>`
          }
        </header>
        <main id="main">
          ${options.flash ? html`<p class="flash ${options.flash.kind}" role="status">${options.flash.text}</p>` : ""}
          ${options.body}
        </main>
      </body>
    </html>`.value;
}

/** One POST button (with optional extra fields) that comes back to `back`. */
export function action(
  path: string,
  label: string,
  back: string,
  options: { tone?: string; fields?: Record<string, string>; extra?: SafeHtml } = {},
): SafeHtml {
  const fields = Object.entries(options.fields ?? {}).map(
    ([name, value]) => html`<input type="hidden" name="${name}" value="${value}" />`,
  );
  return html`<form method="post" action="${path}" class="inline">
    <input type="hidden" name="back" value="${back}" />${fields}${options.extra ?? ""}<button
      class="btn ${options.tone ?? ""}"
    >
      ${label}
    </button>
  </form>`;
}
