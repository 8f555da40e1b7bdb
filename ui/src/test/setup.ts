import "@testing-library/jest-dom/vitest";
import { afterEach } from "vitest";
import { cleanup } from "@testing-library/react";

// Without vitest globals, testing-library cannot register its own cleanup.
afterEach(() => cleanup());

// jsdom has no layout, so a virtualized list would see a zero-height viewport and render no
// rows. Give every element a desktop-sized box instead.
Object.defineProperty(HTMLElement.prototype, "clientHeight", { configurable: true, get: () => 600 });
Object.defineProperty(HTMLElement.prototype, "clientWidth", { configurable: true, get: () => 900 });

// The router scrolls the window to the top after a page change; jsdom only reports that it cannot.
Object.defineProperty(window, "scrollTo", { configurable: true, value: () => {} });
