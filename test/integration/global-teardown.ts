export default async function globalTeardown(): Promise<void> {
  await globalThis.rrsaControlPlane?.stop();
  globalThis.rrsaControlPlane = undefined;
}
