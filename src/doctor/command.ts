import { createKubeClients, loadKubeConfig } from '../kube/client.ts';
import { diagnose, renderFindings } from './diagnose.ts';
import { gatherDoctorInput } from './gather.ts';

export const DOCTOR_USAGE = `usage: rrsa-operator doctor -n|--namespace NS [--pod NAME | --service-account NAME] [--kubeconfig PATH]
  explains why a pod (or the pods of a ServiceAccount) has or lacks RRSA credentials`;

/** `rrsa-operator doctor`: exit 0 when nothing failed, 1 otherwise, 2 on bad usage. */
export async function runDoctor(
  argv: readonly string[],
  print: (text: string) => void,
): Promise<number> {
  const flags = new Map<string, string>();
  const short: Record<string, string> = { '-n': '--namespace' };
  if (argv.includes('-h') || argv.includes('--help')) {
    print(DOCTOR_USAGE);
    return 0;
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = short[argv[i]!] ?? argv[i]!;
    const match = /^--(namespace|pod|service-account|kubeconfig)(?:=(.*))?$/.exec(arg);
    const value = match?.[2] ?? argv[i + 1];
    if (!match || value === undefined) {
      print(`doctor: unexpected argument ${argv[i]}\n${DOCTOR_USAGE}`);
      return 2;
    }
    if (match[2] === undefined) i++;
    flags.set(match[1]!, value);
  }
  const namespace = flags.get('namespace');
  if (!namespace) {
    print(`doctor: --namespace is required\n${DOCTOR_USAGE}`);
    return 2;
  }
  const kube = createKubeClients(loadKubeConfig(flags.get('kubeconfig')));
  const findings = diagnose(
    await gatherDoctorInput(kube, {
      namespace,
      pod: flags.get('pod'),
      serviceAccount: flags.get('service-account'),
    }),
  );
  print(renderFindings(findings));
  return findings.some((f) => f.verdict === 'fail') ? 1 : 0;
}
