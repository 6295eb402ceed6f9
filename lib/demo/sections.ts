/**
 * The demo's table of sections, in transcript order. A service joins the demo
 * by adding one entry here.
 * @module
 */
import type { DemoSection } from "./context.ts";
import { tcpExample, udpExample } from "./examples.ts";
import { lookupSection } from "./lookup.ts";
import { chatSection } from "./chat.ts";
import { binderSection } from "./binder.ts";
import { ratesSection, registrySection, timeSection } from "./exercises.ts";
import { toolsSection } from "./tools.ts";
import { scaleOutSection } from "./scaleout.ts";

export const SECTIONS: DemoSection[] = [
  lookupSection,
  toolsSection,
  udpExample,
  tcpExample,
  timeSection,
  ratesSection,
  registrySection,
  binderSection,
  chatSection,
  scaleOutSection,
];
