import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;

/**
 * CPU per ECDSA P-256 signature and verification with the JDK's provider, as the certificate keys
 * use them (secure aggregation's round keys and survivor sets). Run: java bench/EcdsaCost.java
 */
public final class EcdsaCost {
  private EcdsaCost() {}

  public static void main(String[] args) throws Exception {
    ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair pair = generator.generateKeyPair();
    byte[] content = new byte[600];
    int n = 2000;
    for (int pass = 1; pass <= 3; pass++) {
      long t0 = cpu.getCurrentThreadCpuTime();
      byte[] signature = null;
      for (int i = 0; i < n; i++) {
        Signature signer = Signature.getInstance("SHA256withECDSA");
        signer.initSign(pair.getPrivate());
        signer.update(content);
        signature = signer.sign();
      }
      long t1 = cpu.getCurrentThreadCpuTime();
      for (int i = 0; i < n; i++) {
        Signature verifier = Signature.getInstance("SHA256withECDSA");
        verifier.initVerify(pair.getPublic());
        verifier.update(content);
        verifier.verify(signature);
      }
      long t2 = cpu.getCurrentThreadCpuTime();
      System.out.printf("pass %d: sign %.3f ms, verify %.3f ms CPU each (%s)%n", pass, (t1 - t0) / 1e6 / n,
          (t2 - t1) / 1e6 / n, System.getProperty("java.version"));
    }
  }
}
