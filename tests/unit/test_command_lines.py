"""Credentials on command lines: flags, shell variables, program options; settings kept."""

from __future__ import annotations

import pytest

from workflow.domain.command_lines import command_line_secrets, words_secrets


@pytest.mark.parametrize(("script", "secret"), [
    ("mysql -uroot -pS3cretMysql1 -h db ledger", "S3cretMysql1"),
    ("mysql -uroot -p'Quoted Pw 9' ledger", "Quoted Pw 9"),
    ("mysqldump --user=root \\\n  -pContinued9 ledger > /b.sql", "Continued9"),
    ("mariadb-dump -pMaria-Pw-2 app", "Maria-Pw-2"),
    ("app --password=Eq-Pw-1", "Eq-Pw-1"),
    ("app --password Sep-Pw-2 --verbose", "Sep-Pw-2"),
    ("app -password=Go-Pw-3", "Go-Pw-3"),
    ("app --api-key Api-Key-4", "Api-Key-4"),
    ("app --password 12345678", "12345678"),
    ("curl -sf -u deploy:Curl-Pw-6 https://x.internal/", "Curl-Pw-6"),
    ("docker login --user ci:Login-Pw-7 registry", "Login-Pw-7"),
    ("export DB_PASSWORD=Export-Pw-13 && ./run", "Export-Pw-13"),
    ("PGPASSWORD=Env-Pw-14 psql -h db", "Env-Pw-14"),
    ("redis-cli -h cache -a Redis-Cli-15 ping", "Redis-Cli-15"),
    ("sshpass -pSshpass-16 ssh host", "Sshpass-16"),
    ("mongosh --host db -u admin -p Mongo-Pw-17", "Mongo-Pw-17"),
    ("kubectl create secret generic x --from-literal=password=Literal-17", "Literal-17"),
    ("java -Dspring.datasource.password=Jvm-Pw-18 -jar app.jar", "Jvm-Pw-18"),
    ("helm install x chart --set auth.rootPassword=Helm-Pw-19", "Helm-Pw-19"),
    ("echo ok; app --token=After-Separator-20 | tee /log", "After-Separator-20"),
])
def test_credentials_found_in_a_script(script: str, secret: str) -> None:
    """Each form of a credential on a command line is found, value as the shell sees it."""
    assert [secret] == [value for value, _ in command_line_secrets(script)]


@pytest.mark.parametrize("script", [
    "app --port 8080 --timeout=30s --token-ttl=5m --enable-token-auth=true",
    "app --password-file=/etc/secret/pw --db-password=$(DB_PASSWORD)",
    "app --password \"$DB_PASSWORD\" --token ${API_TOKEN}",
    "kube-apiserver --authorization-mode=Node,RBAC --kubelet-certificate-authority=ca.crt",
    "mkdir -p /data/tmp && cp -pr /a /b && sleep 30",
    "docker run -u 1000:1000 -p 8080:80 app",
    "curl -sf --user admin https://example.com/health",
    "ssh -p 2222 host",
    "app --auth-url https://auth.example.com/token",
    "mysql -uroot -p -h db",
    "mysql -uroot -p\"$MYSQL_ROOT_PASSWORD\" ledger",
])
def test_settings_and_references_are_kept(script: str) -> None:
    """Ports, durations, booleans, paths, expansions and URLs are not credentials."""
    assert [] == list(command_line_secrets(script))


def test_words_of_a_container() -> None:
    """A container's command and args words: program in command, flags in args."""
    words = ["mysqladmin", "ping", "-uroot", "-pProbe-Pw-1", "--token", "Tok-2", "--port",
             "3306"]
    assert [(3, "Probe-Pw-1"), (5, "Tok-2")] == [(c.word, c.value) for c in words_secrets(words)]


def test_reasons_name_the_flag() -> None:
    """The reason says which flag or variable held the credential."""
    found = dict(command_line_secrets("export API_TOKEN=T-1; app --db-password P-2"))
    assert {"T-1": "command-line variable API_TOKEN",
            "P-2": "command-line flag --db-password"} == found
