package org.medfed.trust.pki;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.CRLException;
import java.security.cert.CertificateException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/** PEM files: certificates, private keys (written 0600) and revocation lists. */
public final class Pem {
  private Pem() {}

  public static X509Certificate readCertificate(Path file) throws IOException {
    Object object = read(file, "certificate");
    if (!(object instanceof X509CertificateHolder holder)) {
      throw new IOException(file + " holds " + describe(object) + ", not a certificate");
    }
    try {
      return new JcaX509CertificateConverter().getCertificate(holder);
    } catch (CertificateException e) {
      throw new IOException(file + ": unreadable certificate: " + e.getMessage(), e);
    }
  }

  public static PrivateKey readPrivateKey(Path file) throws IOException {
    Object object = read(file, "private key");
    JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
    if (object instanceof PrivateKeyInfo info) {
      return converter.getPrivateKey(info);
    }
    if (object instanceof PEMKeyPair pair) {
      return converter.getKeyPair(pair).getPrivate();
    }
    throw new IOException(file + " holds " + describe(object) + ", not an unencrypted private key");
  }

  public static X509CRL readCrl(Path file) throws IOException {
    Object object = read(file, "revocation list");
    if (!(object instanceof X509CRLHolder holder)) {
      throw new IOException(file + " holds " + describe(object) + ", not a certificate revocation list");
    }
    try {
      return new JcaX509CRLConverter().getCRL(holder);
    } catch (CRLException e) {
      throw new IOException(file + ": unreadable revocation list: " + e.getMessage(), e);
    }
  }

  /** Writes any PEM object atomically; private material gets owner-only permissions before it has content. */
  public static void write(Path file, Object object, boolean secret) throws IOException {
    StringWriter text = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
      // Private keys as PKCS#8 ("PRIVATE KEY"), which every TLS stack reads.
      if (object instanceof PrivateKey key) {
        writer.writeObject(new JcaPKCS8Generator(key, null));
      } else {
        writer.writeObject(object);
      }
    }
    Files.createDirectories(file.toAbsolutePath().getParent());
    Path temp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(temp);
    if (secret) {
      Files.createFile(temp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    }
    Files.writeString(temp, text.toString(), StandardCharsets.US_ASCII);
    Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static Object read(Path file, String what) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IOException("the " + what + " file " + file + " does not exist");
    }
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser parser = new PEMParser(reader)) {
      Object object = parser.readObject();
      if (object == null) {
        throw new IOException(file + " holds no PEM block; expected a " + what);
      }
      return object;
    }
  }

  private static String describe(Object object) {
    return object.getClass().getSimpleName();
  }
}
