"""Commands with fake secrets in them, and ordinary commands that must stay learnable.

``SECRET_COMMANDS`` pairs each command with the secret it holds. The values are made up but
shaped like the real thing (lengths, prefixes, alphabets).
"""

from __future__ import annotations

# Fake values shaped like real credentials.
AWS_KEY_ID = "AKIAQX4Z7N2LRB5TW3KD"
AWS_SESSION_KEY_ID = "ASIAZ3MK7Q2VNB8XR4LP"
AWS_SECRET = "kq7Zr2Vw9XbT4mN8pL3sY6dH1fJ5gC0aRe2Ui9Ko"
GITHUB = "ghp_R8kW2mZq7XvT4nB9pL3sY6dH1fJ5gC0aRe2U"
GITHUB_PAT = (
    "github_pat_11ABCDEFG0aB3cD5eF7gH9_iJ1kL3mN5oP7qR9sT1uV3wX5yZ7aB9cD1eF3gH5iJ7kL9mN1oP3qR5sT7u"
)
SLACK = "xoxb-2847561937-4918273645-Kq7Zr2Vw9XbT4mN8pL3sY6dH"
SLACK_HOOK = "https://hooks.slack.com/services/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"
GITLAB = "glpat-x7Kq2Vw9XbT4mN8pL3sY"
OPENAI = "sk-proj-Kq7Zr2Vw9XbT4mN8pL3sY6dH1fJ5gC0aRe2Ui9Ko"
GOOGLE = "AIzaSyB7kq2Vw9XbT4mN8pL3sY6dH1fJ5gC0aRe"
STRIPE = "sk_live_51Hq7Zr2Vw9XbT4mN8pL3sY6dH"
NPM = "npm_Kq7Zr2Vw9XbT4mN8pL3sY6dH1fJ5gC0aRe2U"
PYPI = "pypi-AgEIcHlwaS5vcmcCJDk3ZWQ4YjI5LTQ1NGItNDQ0Mi1iZDI1"
DOCKERHUB = "dckr_pat_Kq7Zr2Vw9XbT4mN8pL3sY6dH1fJ"
HUGGINGFACE = "hf_Kq7ZrVwXbTmNpLsYdHfJgCaReUiKoQwErTy"
VAULT = "hvs.CAESIKq7Zr2Vw9XbT4mN8pL3sY6dH1fJ5gC0aRe2"
SENDGRID = "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"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
RANDOM = "Zq8Tn3VbW7xK2mPr9LsY4dHc6FgJ1aQe5UiR0oNw"
PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----"

SECRET_COMMANDS: list[tuple[str, str]] = [
    # Provider token formats.
    (f"export AWS_ACCESS_KEY_ID={AWS_KEY_ID}", AWS_KEY_ID),
    (f"aws sts get-caller-identity --profile {AWS_SESSION_KEY_ID}", AWS_SESSION_KEY_ID),
    (f"aws configure set aws_secret_access_key {AWS_SECRET}", AWS_SECRET),
    (f"echo 'aws_secret_access_key = {AWS_SECRET}' >> ~/.aws/credentials", AWS_SECRET),
    (f"git clone https://{GITHUB}@github.com/acme/api.git", GITHUB),
    (f"gh auth login --with-token <<< {GITHUB}", GITHUB),
    (f"echo {GITHUB_PAT} | gh auth login --with-token", GITHUB_PAT),
    (f"curl -s https://slack.com/api/auth.test?token={SLACK}", SLACK),
    (f"curl -X POST --data '{{\"text\":\"deployed\"}}' {SLACK_HOOK}", SLACK_HOOK),
    (f"glab auth login --stdin <<< {GITLAB}", GITLAB),
    (f"llm keys set openai --value {OPENAI}", OPENAI),
    (f"curl 'https://maps.googleapis.com/maps/api/geocode/json?address=Paris&key={GOOGLE}'",
     GOOGLE),
    (f"stripe listen --api-key {STRIPE} --forward-to localhost:4242/webhook", STRIPE),
    (f"npm config set //registry.npmjs.org/:_authToken {NPM}", NPM),
    (f"twine upload -u __token__ -p {PYPI} dist/*", PYPI),
    (f"echo {DOCKERHUB} > ~/.docker-token", DOCKERHUB),
    (f"huggingface-cli login --token {HUGGINGFACE}", HUGGINGFACE),
    (f"vault login {VAULT}", VAULT),
    (f"python send_mail.py {SENDGRID}", SENDGRID),
    (f"curl -H 'Cookie: session={JWT}' https://app.example.com/api/me", JWT),
    # HTTP credentials.
    ("curl -H 'Authorization: Basic YWRtaW46aHVudGVyMg==' https://ci.example.com/api",
     "YWRtaW46aHVudGVyMg=="),
    ("http GET api.example.com/v1/users 'Authorization:token 9f8e7d6c5b4a39281706'",
     "9f8e7d6c5b4a39281706"),
    ("curl -H 'X-Api-Key: 4f9c2e71b8a3' https://api.example.com/items", "4f9c2e71b8a3"),
    ("curl --header 'PRIVATE-TOKEN: x7Kq2Vw9XbT4' https://gitlab.example.com/api/v4/projects",
     "x7Kq2Vw9XbT4"),
    ("wscat -c wss://stream.example.com -H 'token: abc' --auth Bearer.q7Zr2Vw9XbT4mN8p.sig "
     "-s Bearer q7Zr2Vw9XbT4mN8pL3sY", "q7Zr2Vw9XbT4mN8pL3sY"),
    ("curl -u admin:hunter2 https://jenkins.example.com/api/json", "hunter2"),
    ("curl --user deploy:S3cr3t! -T build.zip ftp://files.example.com/", "S3cr3t!"),
    ("curl -x http://proxy:3128 --proxy-user alice:Winter2024 https://example.com",
     "Winter2024"),
    ("http -a alice:correcthorse POST api.example.com/login", "correcthorse"),
    ("git remote add origin https://alice:hunter2@git.example.com/alice/dotfiles.git",
     "hunter2"),
    ("psql postgresql://app:pg_pass_42@db.internal:5432/app", "pg_pass_42"),
    # key=value in arguments and URLs.
    ("curl 'https://api.example.com/v1/report?api_key=3b9f2c1d7e&format=csv'", "3b9f2c1d7e"),
    ("wget 'https://example.com/download?token=q7Zr2Vw9&file=a.iso'", "q7Zr2Vw9"),
    ("mount -t cifs //nas/share /mnt/nas -o username=alice,password=Tr0ub4dor",
     "Tr0ub4dor"),
    ("./configure-db --db-url localhost passwd=letmein123", "letmein123"),
    ("java -jar app.jar --spring.datasource.pwd=s3cret", "s3cret"),
    ("kubectl create secret generic db --from-literal=secret=MyDbPass1", "MyDbPass1"),
    ("curl https://api.example.com/data?apikey=8d7c6b5a4f3e", "8d7c6b5a4f3e"),
    ("npm config set _auth YWxpY2U6aHVudGVyMg==", "YWxpY2U6aHVudGVyMg=="),
    # Options carrying a secret.
    ("mysql --user=root --password=toor shop", "toor"),
    ("pgcli --password s3cretpass -h db app", "s3cretpass"),
    ("kubectl config set-credentials ci --token=q7Zr2Vw9XbT4mN8p", "q7Zr2Vw9XbT4mN8p"),
    ("datadog-agent check --api-key 0123abcd4567ef89", "0123abcd4567ef89"),
    ("gpg --batch --passphrase opensesame -d backup.tar.gpg", "opensesame"),
    ("wget --http-password=hunter2 --http-user=bob https://intranet/file", "hunter2"),
    # Tools that take a password as a flag.
    ("mysql -u root -pS3cretRoot shop", "S3cretRoot"),
    ("mysqldump -uroot -phunter2 --all-databases > all.sql", "hunter2"),
    ("mysqladmin -u root -p'hunter2' status", "hunter2"),
    ("mariadb -h db -u app -pAppPass1 app", "AppPass1"),
    ("sshpass -p 'Raspberry1' ssh pi@192.168.1.20", "Raspberry1"),
    ("htpasswd -b /etc/nginx/.htpasswd alice hunter2", "hunter2"),
    ("htpasswd -cb .htpasswd bob swordfish", "swordfish"),
    ("docker login -u alice -p hunter2 registry.example.com", "hunter2"),
    ("oc login -u developer -p developer123 https://api.crc.testing:6443", "developer123"),
    ("redis-cli -h cache -a r3disPass ping", "r3disPass"),
    ("mongosh -u admin -p M0ngoPass --authenticationDatabase admin", "M0ngoPass"),
    ("sqlcmd -S localhost -U sa -P 'Passw0rd!' -Q 'SELECT 1'", "Passw0rd!"),
    ("ldapsearch -x -D cn=admin,dc=example,dc=org -w adminpw -b dc=example,dc=org",
     "adminpw"),
    ("zip -P zipsecret -r private.zip docs/", "zipsecret"),
    ("7z a -pArchivePass1 backup.7z ~/docs", "ArchivePass1"),
    ("smbclient //nas/share -U alice%hunter2", "hunter2"),
    ("openssl rsa -in key.pem -passin pass:keypass -out plain.pem", "keypass"),
    ("ssh-keygen -t ed25519 -N 'my passphrase' -f ~/.ssh/id_deploy", "my passphrase"),
    ("echo 'hunter2' | sudo -S apt-get update", "hunter2"),
    ("echo hunter2 | docker login -u alice --password-stdin", "hunter2"),
    # Environment assignments that name a secret.
    ("export GITHUB_TOKEN=q7Zr2Vw9XbT4", "q7Zr2Vw9XbT4"),
    ("GITHUB_TOKEN=q7Zr2Vw9XbT4 gh release create v1.2.0", "q7Zr2Vw9XbT4"),
    ("export DJANGO_SECRET_KEY='django-insecure-abc'", "django-insecure-abc"),
    ("PGPASSWORD=pgsecret psql -h db -U app", "pgsecret"),
    ("export OPENAI_API_KEY=not-a-real-key", "not-a-real-key"),
    ("export MINIO_ACCESS_KEY=minioadmin", "minioadmin"),
    ("docker run -e DB_PASSWORD=hunter2 postgres:16", "hunter2"),
    ("export SMTP_PASS=mailpass", "mailpass"),
    ("set -gx ANTHROPIC_API_KEY abc-def-123", "abc-def-123"),
    ("env REGISTRY_CREDENTIALS=alice:pw ./push.sh", "alice:pw"),
    # Key material and random strings.
    (f"printf '{PRIVATE_KEY}\\nb3BlbnNzaC1rZXktdjEAAAAA\\n' > id_ed25519", PRIVATE_KEY),
    (f"./deploy.sh --signing {RANDOM}", RANDOM),
]

# Commands that look close to a secret but hold none: learning them is the point.
CLEAN_COMMANDS: list[str] = [
    'git commit -m "fix password reset"',
    "git commit -m 'rotate the api token on login'",
    "grep -r password src/",
    "grep -rn 'password=' config/",
    "rg -i 'token|secret' --type py",
    "export PATH=$HOME/.local/bin:$PATH",
    "export EDITOR=nvim",
    "export GITHUB_TOKEN=$(gh auth token)",
    'export OPENAI_API_KEY="$(pass show openai)"',
    "export GITHUB_TOKEN=",
    "export PASSWORD_STORE_DIR=~/.password-store",
    "export GOOGLE_APPLICATION_CREDENTIALS_FILE=~/gcp.json",
    "TOKENIZERS_PARALLELISM=false python train.py",
    "ssh -p 2222 deploy@example.com",
    "scp -P 2222 file deploy@example.com:",
    "mkdir -p a/b/c",
    "cp -p a b",
    "pass show email",
    "pass insert web/github",
    "mysql -p",
    "mysql -u root -p shop",
    "mysql -u root -p -e 'SHOW DATABASES'",
    "sudo find / -name mysql -print",
    "docker login -u alice registry.example.com",
    "echo $CR_PAT | docker login ghcr.io -u alice --password-stdin",
    'curl -H "Authorization: Bearer $TOKEN" https://api.example.com/me',
    "curl -H 'Authorization: Bearer' https://api.example.com/me",
    "curl -u alice https://example.com",
    "curl -u \"$USER:$PASS\" https://example.com",
    "git push -u origin main",
    "docker run -u 1000:1000 -it ubuntu bash",
    "docker run --rm -p 8080:80 nginx",
    "kubectl get secrets -n kube-system",
    "kubectl describe secret db-credentials",
    "kubectl create secret generic db --from-file=./password.txt",
    "kubectl logs -f deploy/api --since=10m",
    "git show 3f786850e387550fdab836ed7e6dc881de23001b",
    "git checkout 9fceb02d0ae598e95dc970b74767f19372d61af8",
    "echo e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  file | sha256sum -c",
    "docker pull nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31",
    "systemctl status 0b1e4b3c-9a8e-4c53-8f57-3c8d2a7e1f90",
    "cd /Users/JohnSmith/Documents/Projects2024/MyApp/src",
    "java -cp build/classes com.example.SomeVeryLongJavaClassName2ForTesting",
    "ssh-keygen -t ed25519 -N '' -f ~/.ssh/id_ci",
    "ssh-keygen -lf ~/.ssh/id_ed25519.pub",
    "gh auth login --with-token < ~/.config/gh/token",
    "gpg --passphrase-file ~/.pw -d backup.gpg",
    "sshpass -f ~/.sshpass ssh pi@raspberrypi",
    "htpasswd -c .htpasswd alice",
    "pip install scikit-learn",
    "npm install --save-dev typescript",
    "git clone git@github.com:acme/api.git",
    "git clone ssh://git@git.example.com:2222/acme/api.git",
    "curl http://localhost:8080/api/health",
    "alias pwd='pwd -P'",
    "cd $(pwd)/build",
    "openssl rand -base64 32",
    "ls -la --time-style=long-iso",
    "find . -name '*.pem' -newer token.txt",
    "awk -F= '/^token/ {print $2}' settings.ini",
    "sed -i 's/password=.*/password=/' config.ini",
    "aws s3 ls s3://acme-backups --profile prod",
    "set -x EDITOR vim",
    "echo $AWS_SECRET_ACCESS_KEY | wc -c",
    "http :8080/api/items",
    "redis-cli -h cache ping",
    "zip -r docs.zip docs/",
    "7z x backup.7z",
]
