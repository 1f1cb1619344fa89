// testTimeout is a global jest option (ignored inside `projects`), so the integration project
// sets its own here: these tests drive a real apiserver and emulator.
jest.setTimeout(120_000);
