"""TLS credentials of the Dask clusters hyperfleet starts, so that only their owner can use them.

A Dask scheduler runs whatever its clients send (``client.run``, ``client.submit``). Each
cluster hyperfleet starts (the local one of ``--evaluator dask``, the multi-node batch job's,
the ``--elastic`` one) gets its own certificate authority: a CA certificate and one certificate
and key signed by it, shared by the scheduler, the workers and the driver; the CA's key is
thrown away, so no other certificate can ever be signed for that cluster. Every connection
needs TLS with a certificate of that CA both ways (Dask's mutual TLS), so a process without the
key cannot connect. The files live in a ``dask-tls`` folder (0700, key 0600) of the search's folder.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyperfleet.files import make_folder, write_private_text

TLS_FOLDER = "dask-tls"
_DAYS = 3650  # a search may be resumed years later with the same credentials


@dataclass(frozen=True)
class TlsFiles:
    """The three files a process needs to join a cluster: the CA's certificate, a certificate and its key."""

    ca_file: str
    cert: str
    key: str

    @classmethod
    def in_folder(cls, folder: str | os.PathLike) -> "TlsFiles":
        """The files' places inside ``folder`` (the ``dask-tls`` folder)."""
        folder = Path(folder)
        return cls(str(folder / "ca.pem"), str(folder / "cert.pem"), str(folder / "key.pem"))

    def exist(self) -> bool:
        return all(os.path.isfile(p) for p in (self.ca_file, self.cert, self.key))

    def security(self) -> Any:
        """A ``distributed.Security`` for every role (scheduler, worker, client), TLS required."""
        from distributed.security import Security

        return Security(require_encryption=True, tls_ca_file=self.ca_file,
                        tls_client_cert=self.cert, tls_client_key=self.key,
                        tls_scheduler_cert=self.cert, tls_scheduler_key=self.key,
                        tls_worker_cert=self.cert, tls_worker_key=self.key)

    def cli_options(self) -> str:
        """The options of ``dask scheduler`` / ``dask worker`` that make them use these files (shell-quoted)."""
        import shlex

        return (f"--tls-ca-file {shlex.quote(self.ca_file)} --tls-cert {shlex.quote(self.cert)} "
                f"--tls-key {shlex.quote(self.key)}")

    def environment(self) -> dict[str, str]:
        """Dask configuration variables that make a Dask client (``hyperfleet search --dask-address``,
        a notebook) use these files."""
        return {"DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION": "True",
                "DASK_DISTRIBUTED__COMM__TLS__CA_FILE": self.ca_file,
                "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT": self.cert,
                "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY": self.key}


def cluster_credentials(search_folder: str | os.PathLike) -> TlsFiles:
    """The cluster credentials of a search: made in ``search_folder/dask-tls`` unless already there."""
    files = TlsFiles.in_folder(Path(search_folder) / TLS_FOLDER)
    if not files.exist():
        make_credentials(Path(search_folder) / TLS_FOLDER)
    return files


def make_credentials(folder: str | os.PathLike) -> TlsFiles:
    """Generate a new CA and a certificate and key signed by it into ``folder`` (0700; key 0600)."""
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    except ImportError:
        raise ImportError("securing the Dask cluster needs cryptography: pip install 'hyperfleet[dask]'") from None
    folder = make_folder(folder, private=True)
    os.chmod(folder, 0o700)
    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    until = now + datetime.timedelta(days=_DAYS)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hyperfleet cluster CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now).not_valid_after(until)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hyperfleet dask")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(until)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                  ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("hyperfleet-dask")]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    files = TlsFiles.in_folder(folder)
    pem = serialization.Encoding.PEM
    write_private_text(files.key, key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()).decode())
    write_private_text(files.cert, cert.public_bytes(pem).decode())
    write_private_text(files.ca_file, ca.public_bytes(pem).decode())
    return files


__all__ = ["TLS_FOLDER", "TlsFiles", "cluster_credentials", "make_credentials"]
