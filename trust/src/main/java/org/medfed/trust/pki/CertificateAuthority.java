package org.medfed.trust.pki;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The consortium's certificate authority, kept in one folder: {@code ca.crt}, {@code ca.key}
 * (0600), {@code issued.tsv} (every certificate it signed) and {@code revoked.tsv} with the
 * signed {@code revoked.crl} made from it. Keys are ECDSA P-256: fast to make, small on the wire.
 */
public final class CertificateAuthority {
  public static final String CERTIFICATE = "ca.crt";
  public static final String KEY = "ca.key";
  public static final String ISSUED = "issued.tsv";
  public static final String REVOKED = "revoked.tsv";
  public static final String CRL = "revoked.crl";
  private static final String SIGNATURE = "SHA256withECDSA";
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Path dir;
  private final X509Certificate certificate;
  private final PrivateKey key;

  private CertificateAuthority(Path dir, X509Certificate certificate, PrivateKey key) {
    this.dir = dir;
    this.certificate = certificate;
    this.key = key;
  }

  /** A certificate and the private key that goes with it. */
  public record Issued(X509Certificate certificate, PrivateKey privateKey) {
    public Identity identity() {
      return Identity.of(certificate);
    }
  }

  /** One line of {@code issued.tsv}. */
  public record IssuedEntry(BigInteger serial, Role role, String name, Instant notAfter) {}

  public static boolean existsIn(Path dir) {
    return Files.isRegularFile(dir.resolve(CERTIFICATE)) && Files.isRegularFile(dir.resolve(KEY));
  }

  /** Makes a new self-signed CA in {@code dir}, which must not hold one already. */
  public static CertificateAuthority create(Path dir, String consortium, Instant notBefore, Instant notAfter)
      throws IOException {
    if (existsIn(dir)) {
      throw new IOException(dir + " already holds a certificate authority; refusing to replace it");
    }
    KeyPair pair = newKeyPair();
    X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, consortium)
        .addRDN(BCStyle.CN, consortium + " consortium CA").build();
    try {
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, serial(), Date.from(notBefore),
          Date.from(notAfter), subject, pair.getPublic())
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
          .addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(pair.getPublic()));
      X509Certificate certificate = new JcaX509CertificateConverter().getCertificate(
          builder.build(new JcaContentSignerBuilder(SIGNATURE).build(pair.getPrivate())));
      Files.createDirectories(dir);
      Pem.write(dir.resolve(KEY), pair.getPrivate(), true);
      Pem.write(dir.resolve(CERTIFICATE), certificate, false);
      CertificateAuthority ca = new CertificateAuthority(dir, certificate, pair.getPrivate());
      ca.writeCrl();
      return ca;
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IllegalStateException("could not create the consortium CA: " + e.getMessage(), e);
    }
  }

  public static CertificateAuthority load(Path dir) throws IOException {
    if (!existsIn(dir)) {
      throw new IOException("no certificate authority in " + dir + " (expected " + CERTIFICATE + " and " + KEY
          + "; run `medfed provision` first)");
    }
    return new CertificateAuthority(dir, Pem.readCertificate(dir.resolve(CERTIFICATE)), Pem.readPrivateKey(dir.resolve(KEY)));
  }

  public X509Certificate certificate() {
    return certificate;
  }

  public String consortium() {
    return Identity.of(certificate).consortium();
  }

  /**
   * Issues a certificate for {@code name} in {@code role}; {@code hostNames} (DNS names or IP
   * addresses) go into the subject alternative names that clients verify.
   */
  public Issued issue(String name, Role role, List<String> hostNames, Instant notBefore, Instant notAfter)
      throws IOException {
    KeyPair pair = newKeyPair();
    X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, consortium())
        .addRDN(BCStyle.OU, role.unit()).addRDN(BCStyle.CN, name).build();
    BigInteger serial = serial();
    try {
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(certificate, serial, Date.from(notBefore),
          Date.from(notAfter), subject, pair.getPublic())
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
          .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(role == Role.COORDINATOR
              ? new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth}
              : new KeyPurposeId[] {KeyPurposeId.id_kp_clientAuth}))
          .addExtension(Extension.authorityKeyIdentifier, false, extensions.createAuthorityKeyIdentifier(certificate))
          .addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(pair.getPublic()));
      if (!hostNames.isEmpty()) {
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(
            hostNames.stream().map(CertificateAuthority::generalName).toArray(GeneralName[]::new)));
      }
      X509Certificate issued = new JcaX509CertificateConverter().getCertificate(
          builder.build(new JcaContentSignerBuilder(SIGNATURE).build(key)));
      Files.writeString(dir.resolve(ISSUED), serial.toString(16) + "\t" + role.unit() + "\t" + name + "\t" + notAfter
          + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      return new Issued(issued, pair.getPrivate());
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IllegalStateException("could not issue a certificate for '" + name + "': " + e.getMessage(), e);
    }
  }

  public List<IssuedEntry> issued() throws IOException {
    List<IssuedEntry> entries = new ArrayList<>();
    for (String[] fields : rows(ISSUED)) {
      entries.add(new IssuedEntry(new BigInteger(fields[0], 16), Role.ofUnit(fields[1]).orElseThrow(), fields[2],
          Instant.parse(fields[3])));
    }
    return entries;
  }

  /** The serials this CA has revoked. */
  public List<BigInteger> revoked() throws IOException {
    return rows(REVOKED).stream().map(fields -> new BigInteger(fields[0], 16)).toList();
  }

  /**
   * Revokes every certificate issued to {@code name} in {@code role} and rewrites the signed
   * revocation list; returns the serials revoked now (none when they already were).
   */
  public List<BigInteger> revoke(String name, Role role, String reason, Instant when) throws IOException {
    List<BigInteger> already = revoked();
    List<BigInteger> now = issued().stream().filter(e -> e.name().equals(name) && e.role() == role)
        .map(IssuedEntry::serial).filter(s -> !already.contains(s)).toList();
    if (now.isEmpty() && issued().stream().noneMatch(e -> e.name().equals(name) && e.role() == role)) {
      throw new IOException("this CA never issued a " + role.unit() + " certificate to '" + name + "'");
    }
    StringBuilder lines = new StringBuilder();
    now.forEach(serial -> lines.append(serial.toString(16)).append('\t').append(when).append('\t')
        .append(reason.replace('\t', ' ').replace('\n', ' ')).append('\n'));
    Files.writeString(dir.resolve(REVOKED), lines, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
    writeCrl();
    return now;
  }

  /** Writes {@code revoked.crl}, signed, listing every revoked serial; returns its path. */
  public Path writeCrl() throws IOException {
    Instant now = Instant.now();
    X509v2CRLBuilder builder = new X509v2CRLBuilder(X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded()),
        Date.from(now));
    builder.setNextUpdate(Date.from(now.plusSeconds(365L * 24 * 3600)));
    for (String[] fields : rows(REVOKED)) {
      builder.addCRLEntry(new BigInteger(fields[0], 16), Date.from(Instant.parse(fields[1])), CRLReason.unspecified);
    }
    try {
      X509CRL crl = new JcaX509CRLConverter().getCRL(builder.build(new JcaContentSignerBuilder(SIGNATURE).build(key)));
      Path file = dir.resolve(CRL);
      Pem.write(file, crl, false);
      return file;
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IllegalStateException("could not sign the revocation list: " + e.getMessage(), e);
    }
  }

  public Path crlFile() {
    return dir.resolve(CRL);
  }

  private List<String[]> rows(String file) throws IOException {
    Path path = dir.resolve(file);
    if (!Files.exists(path)) {
      return List.of();
    }
    return Files.readAllLines(path, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank())
        .map(l -> l.split("\t", -1)).toList();
  }

  private static GeneralName generalName(String host) {
    return isIpAddress(host) ? new GeneralName(GeneralName.iPAddress, host) : new GeneralName(GeneralName.dNSName, host);
  }

  private static boolean isIpAddress(String host) {
    return host.matches("[0-9.]+") || host.contains(":");
  }

  private static BigInteger serial() {
    return new BigInteger(127, RANDOM).add(BigInteger.ONE);
  }

  static KeyPair newKeyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK lacks EC P-256", e);
    }
  }
}
