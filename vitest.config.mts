// The JS unit tests: pure merge logic, DOM patching, bindings and the widget module, run in
// happy-dom (a DOM without a browser). Real-browser checks live in tests/e2e (Python side).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["js/tests/*.test.ts"],
    environment: "happy-dom",
    // official.test.ts loads phoenix_live_view's TypeScript sources: let Vite transform them.
    server: { deps: { inline: ["phoenix_live_view"] } },
  },
});
