/**
 * @module dashboard/html — the dashboard's only way to write HTML: a tagged template that escapes
 * every interpolated value unless it is already `SafeHtml`, so untrusted text (feed titles, model
 * output, error bodies) always reaches the page as text, and links that are only ever http(s).
 */

/** HTML that is already safe to emit (built by `html` or `raw` from trusted literals). */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
  "`": "&#96;",
};

/** Escapes text for element content and quoted attribute values alike. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c] as string);
}

export type Html = SafeHtml | string | number | boolean | null | undefined | Html[];

function render(value: Html): string {
  if (value === null || value === undefined || value === false) return "";
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}

/** `html\`<p>${text}</p>\`` — interpolations are escaped; arrays are joined; null/false vanish. */
export function html(strings: TemplateStringsArray, ...values: Html[]): SafeHtml {
  let out = strings[0] ?? "";
  for (let i = 0; i < values.length; i++) out += render(values[i] as Html) + (strings[i + 1] ?? "");
  return new SafeHtml(out);
}

/** Marks a trusted literal (never user data) as HTML. */
export function raw(value: string): SafeHtml {
  return new SafeHtml(value);
}

/** The URL when it is an absolute http(s) URL, else null: only those become links. */
export function safeHref(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

/** A link when `url` is http(s), else the text alone. External links never get the opener. */
export function link(url: string | null | undefined, text: string): SafeHtml {
  const href = safeHref(url);
  return href
    ? html`<a href="${href}" rel="noopener noreferrer nofollow" target="_blank">${text}</a>`
    : html`<span>${text}</span>`;
}
