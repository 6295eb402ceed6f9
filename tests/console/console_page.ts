/**
 * What a person reads on the console page, as expressions for Page.evaluate:
 * a service's row as text, one of its numbers, a panel's text.
 * @module
 */
import type { Page } from "./cdp.ts";

/** The expression for the text of `service`'s row, cells joined by " | " ("" if absent). */
export function rowText(service: string): string {
  return `(() => {
    const r = [...document.querySelectorAll("#services tbody tr")]
      .find((tr) => tr.dataset.service === ${JSON.stringify(service)});
    return r ? [...r.cells].map((c) => c.textContent.trim()).join(" | ") : "";
  })()`;
}

/** The number shown in `service`'s `requests`/`errors` cell. */
export function serviceNumber(page: Page, service: string, cell: "requests" | "errors") {
  return page.evaluate<number>(`Number([...document.querySelectorAll("#services tbody tr")]
    .find((tr) => tr.dataset.service === ${JSON.stringify(service)})
    ?.querySelector("td.${cell} span")?.textContent)`);
}

/** The expression for the shown text of the panel `id` (chat, binder, registry, events). */
export function panelText(id: "chat" | "binder" | "registry" | "events" | "status"): string {
  return `document.getElementById(${JSON.stringify(id)}).innerText`;
}

/** Every service label in the table, top to bottom. */
export function serviceLabels(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(
    `[...document.querySelectorAll("#services tbody tr")].map((tr) => tr.dataset.service)`,
  );
}
