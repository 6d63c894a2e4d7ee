"""Seeded synthetic corpora for the benchmarks: CloudFormation templates and Terraform modules.

    python benchmarks/generate.py OUT_DIR [--seed 7] [--cfn 300] [--tf-modules 500] [--tf-flat 300]
                                          [--tf-dynamic 300] [--groups 20] [--tf-mesh 30]
                                          [--tf-registry 8]

Writes OUT_DIR/cloudformation/*.yaml (each with --groups security groups),
OUT_DIR/terraform-modules/mNNN/main.tf (small modules) and
OUT_DIR/terraform-flat/fNNN.tf (one module of many files, --groups groups each) and
OUT_DIR/terraform-dynamic/dNNN.tf (the same with dynamic ingress blocks).
Two shapes of real repositories besides: OUT_DIR/terraform-mesh (one root calling --tf-mesh
local modules that read each other's outputs: module kK takes module k(K+1)'s group id and
k(K-1)'s CIDR) and OUT_DIR/terraform-registry (a module at the root and --tf-registry
``examples/*/`` roots that each call ``../../`` with other inputs).
About one group in ten opens a Windows port to the world, as real code does.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

PORTS = [22, 80, 443, 3389, 445, 5985, 8080, 1433, 3306, 5432, 135, 139, 9000]


def _rule(rng: random.Random) -> tuple[str, int, int, str]:
    port = rng.choice(PORTS)
    span = rng.choice([0, 0, 0, 10, 100])
    protocol = rng.choice(["tcp", "tcp", "tcp", "udp", "-1"])
    cidr = "0.0.0.0/0" if rng.random() < 0.1 else rng.choice(["10.0.0.0/8", "172.16.0.0/12", "192.168.1.0/24"])
    return protocol, port, min(port + span, 65535), cidr


def cloudformation(rng: random.Random, groups: int) -> str:
    lines = ['AWSTemplateFormatVersion: "2010-09-09"', "Parameters:", "  AdminCidr:", "    Type: String",
             "    Default: 10.0.0.0/8", "  VpcId:", "    Type: AWS::EC2::VPC::Id", "Resources:"]
    for group in range(groups):
        lines += [f"  Group{group}:", "    Type: AWS::EC2::SecurityGroup", "    Properties:",
                  f"      GroupDescription: generated group {group}", "      VpcId: !Ref VpcId",
                  "      SecurityGroupIngress:"]
        for _ in range(rng.randint(2, 5)):
            protocol, low, high, cidr = _rule(rng)
            lines += [f"        - IpProtocol: \"{protocol}\"", f"          FromPort: {low}", f"          ToPort: {high}",
                      f"          CidrIp: {cidr if rng.random() < 0.7 else '!Ref AdminCidr'}",
                      "          Description: generated rule"]
        lines += ["      Tags:", "        - Key: Name", f"          Value: !Sub '${{AWS::StackName}}-group{group}'"]
    return "\n".join(lines) + "\n"


def terraform(rng: random.Random, groups: int, prefix: str) -> str:
    blocks = ['variable "%s_admin_cidr" {\n  default = "10.0.0.0/8"\n}\n' % prefix]
    for group in range(groups):
        body = [f'resource "aws_security_group" "{prefix}_g{group}" {{', f'  name = "{prefix}-g{group}"']
        for _ in range(rng.randint(2, 5)):
            protocol, low, high, cidr = _rule(rng)
            source = f'"{cidr}"' if rng.random() < 0.7 else f"var.{prefix}_admin_cidr"
            body += ["  ingress {", f"    from_port   = {low if protocol != '-1' else 0}",
                     f"    to_port     = {high if protocol != '-1' else 0}", f'    protocol    = "{protocol}"',
                     f"    cidr_blocks = [{source}]", "  }"]
        body.append("}\n")
        blocks.append("\n".join(body))
    return "\n".join(blocks)


def terraform_dynamic(rng: random.Random, groups: int, prefix: str) -> str:
    """Groups whose rules come from dynamic blocks over a map: the evaluator's slow case."""
    blocks = ['locals {\n  %s_ports = { rdp = 3389, web = 443, smb = 445 }\n}\n' % prefix]
    for group in range(groups):
        cidr = '"0.0.0.0/0"' if rng.random() < 0.1 else '"10.0.0.0/8"'
        blocks.append(f'resource "aws_security_group" "{prefix}_g{group}" {{\n  name = "{prefix}-g{group}"\n'
                      f'  dynamic "ingress" {{\n    for_each = local.{prefix}_ports\n    content {{\n'
                      f'      from_port   = ingress.value\n      to_port     = ingress.value\n'
                      f'      protocol    = "tcp"\n      cidr_blocks = [{cidr}]\n    }}\n  }}\n}}\n')
    return "\n".join(blocks)


def windows_host(groups: str) -> str:
    """The Windows instance a real module puts behind its groups (what the checks call the target)."""
    return ('variable "ami_id" {\n  description = "A Windows Server AMI"\n  type        = string\n'
            '  default     = "ami-0123456789abcdef0"\n}\n\n'
            'variable "subnet_id" {\n  description = "Where the host runs"\n  type        = string\n'
            '  default     = "subnet-0123456789abcdef0"\n}\n\n'
            'resource "aws_instance" "host" {\n  ami                    = var.ami_id\n'
            '  instance_type          = "m5.large"\n  subnet_id              = var.subnet_id\n'
            f'  vpc_security_group_ids = [{groups}]\n  get_password_data      = true\n\n'
            '  metadata_options {\n    http_tokens = "required"\n  }\n\n'
            '  root_block_device {\n    encrypted   = true\n    volume_size = 50\n  }\n\n'
            '  tags = { Name = "windows-host", Platform = "windows" }\n}\n')


def support(name: str) -> str:
    """What a real module holds besides its network: logs, keys, a role (read by checkov's checks,
    evaluated and passed over by winportlint)."""
    return (f'resource "aws_kms_key" "logs" {{\n  description         = "{name} logs"\n'
            '  enable_key_rotation = true\n}\n\n'
            f'resource "aws_cloudwatch_log_group" "this" {{\n  name              = "/{name}/host"\n'
            '  retention_in_days = 365\n  kms_key_id        = aws_kms_key.logs.arn\n}\n\n'
            f'resource "aws_s3_bucket" "logs" {{\n  bucket = "{name}-logs"\n}}\n\n'
            'resource "aws_s3_bucket_public_access_block" "logs" {\n  bucket                  = aws_s3_bucket.logs.id\n'
            '  block_public_acls       = true\n  block_public_policy     = true\n'
            '  ignore_public_acls      = true\n  restrict_public_buckets = true\n}\n\n'
            f'resource "aws_iam_role" "host" {{\n  name = "{name}-host"\n  assume_role_policy = jsonencode({{\n'
            '    Version   = "2012-10-17"\n    Statement = [{ Action = "sts:AssumeRole", Effect = "Allow",\n'
            '                   Principal = { Service = "ec2.amazonaws.com" } }]\n  })\n}\n\n'
            'resource "aws_iam_role_policy_attachment" "ssm" {\n  role       = aws_iam_role.host.name\n'
            '  policy_arn = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"\n}\n\n'
            f'resource "aws_iam_instance_profile" "host" {{\n  name = "{name}-host"\n  role = aws_iam_role.host.name\n}}\n')


def terraform_mesh(rng: random.Random, out: Path, calls: int) -> None:
    """One root calling ``calls`` local modules that take each other's outputs (no cycle of
    resources: a module's CIDR output is a variable's, its group id its own group's), each
    module of five files calling a module of its own twice, the two calls taking each other's
    outputs too, as real roots of many calls are written."""
    root = out / "terraform-mesh"
    root.mkdir(parents=True, exist_ok=True)
    for index in range(calls):
        module = root / "modules" / f"k{index:03d}"
        (module / "edge").mkdir(parents=True, exist_ok=True)
        protocol, low, high, cidr = _rule(rng)
        cidr = "0.0.0.0/0" if index % 10 == 0 else cidr.replace("0.0.0.0/0", "10.0.0.0/8")  # one in ten
        (module / "variables.tf").write_text(
            'variable "peer_group" {\n  type    = string\n  default = ""\n}\n\n'
            f'variable "cidr" {{\n  type    = string\n  default = "{cidr}"\n}}\n\n'
            'variable "tags" {\n  type    = map(string)\n  default = {}\n}\n')
        (module / "locals.tf").write_text(
            f'locals {{\n  name = "k{index}"\n  tags = merge(var.tags, {{ Name = local.name }})\n}}\n')
        (module / "main.tf").write_text(
            f'resource "aws_security_group" "this" {{\n  name = local.name\n  tags = local.tags\n  ingress {{\n'
            f"    from_port   = {low if protocol != '-1' else 0}\n    to_port     = {high if protocol != '-1' else 0}\n"
            f'    protocol    = "{protocol}"\n    cidr_blocks = [var.cidr]\n  }}\n}}\n\n'
            'resource "aws_security_group_rule" "from_peer" {\n  count                    = var.peer_group == "" ? 0 : 1\n'
            '  type                     = "ingress"\n  security_group_id        = aws_security_group.this.id\n'
            '  source_security_group_id = var.peer_group\n  protocol                 = "tcp"\n'
            '  from_port                = 443\n  to_port                  = 443\n}\n\n'
            'module "edge" {\n  source = "./edge"\n  cidr   = var.cidr\n  tags   = local.tags\n'
            '  peer   = module.admin.group_id\n}\n\n'
            'module "admin" {\n  source = "./edge"\n  cidr   = module.edge.cidr\n  tags   = local.tags\n}\n')
        (module / "instance.tf").write_text(windows_host("aws_security_group.this.id, module.edge.group_id"))
        (module / "support.tf").write_text(support(f"k{index:03d}"))
        (module / "outputs.tf").write_text('output "group_id" {\n  value = aws_security_group.this.id\n}\n\n'
                                           'output "cidr" {\n  value = var.cidr\n}\n\n'
                                           'output "edge_id" {\n  value = module.edge.group_id\n}\n')
        (module / "edge" / "main.tf").write_text(
            'variable "cidr" {\n  type = string\n}\n\nvariable "tags" {\n  type = map(string)\n}\n\n'
            'variable "peer" {\n  type    = string\n  default = ""\n}\n\n'
            'resource "aws_security_group" "edge" {\n  name = "edge"\n  tags = var.tags\n  ingress {\n'
            '    from_port   = 445\n    to_port     = 445\n    protocol    = "tcp"\n    cidr_blocks = [var.cidr]\n'
            '  }\n}\n\n'
            'resource "aws_security_group_rule" "from_peer" {\n  count                    = var.peer == "" ? 0 : 1\n'
            '  type                     = "ingress"\n  security_group_id        = aws_security_group.edge.id\n'
            '  source_security_group_id = var.peer\n  protocol                 = "tcp"\n'
            '  from_port                = 5986\n  to_port                  = 5986\n}\n\n'
            'output "group_id" {\n  value = aws_security_group.edge.id\n}\n\n'
            'output "cidr" {\n  value = var.cidr\n}\n')
    calls_text = []
    for index in range(calls):
        inputs = [f'  source     = "./modules/k{index:03d}"', "  tags       = local.tags"]
        if index + 1 < calls:
            inputs.append(f"  peer_group = module.k{index + 1:03d}.group_id")
        if index % 3 == 1:  # a third take the CIDR of the module before them
            inputs.append(f"  cidr       = module.k{index - 1:03d}.cidr")
        calls_text.append(f'module "k{index:03d}" {{\n' + "\n".join(inputs) + "\n}\n")
    (root / "main.tf").write_text("\n".join(calls_text))
    (root / "locals.tf").write_text('locals {\n  tags = { team = "platform" }\n}\n')


def terraform_registry(rng: random.Random, out: Path, examples: int, groups: int) -> None:
    """A registry-style module repository: the module at the root, and ``examples/*/`` roots that
    each call ``../../`` with inputs of their own."""
    root = out / "terraform-registry"
    (root / "examples").mkdir(parents=True, exist_ok=True)
    (root / "variables.tf").write_text('variable "admin_cidr" {\n  type    = string\n  default = "10.0.0.0/8"\n}\n\n'
                                       'variable "ports" {\n  type    = list(number)\n  default = [443]\n}\n')
    (root / "main.tf").write_text(terraform(rng, groups, "r") + '\nresource "aws_security_group" "admin" {\n'
                                  '  name = "admin"\n  dynamic "ingress" {\n    for_each = var.ports\n'
                                  '    content {\n      from_port   = ingress.value\n      to_port     = ingress.value\n'
                                  '      protocol    = "tcp"\n      cidr_blocks = [var.admin_cidr]\n    }\n  }\n}\n')
    (root / "instance.tf").write_text(windows_host("aws_security_group.admin.id"))
    (root / "support.tf").write_text(support("registry"))
    (root / "outputs.tf").write_text('output "admin_group_id" {\n  value = aws_security_group.admin.id\n}\n')
    for index in range(examples):
        example = root / "examples" / f"e{index:02d}"
        example.mkdir(exist_ok=True)
        (example / "versions.tf").write_text('terraform {\n  required_version = ">= 1.3"\n  required_providers {\n'
                                             '    aws = {\n      source  = "hashicorp/aws"\n'
                                             '      version = ">= 5.0"\n    }\n  }\n}\n')
        (example / "outputs.tf").write_text('output "admin_group_id" {\n  value = module.this.admin_group_id\n}\n')
        cidr = "0.0.0.0/0" if rng.random() < 0.2 else "10.1.0.0/16"
        ports = sorted(rng.sample(PORTS, 3))
        (example / "main.tf").write_text(f'module "this" {{\n  source     = "../../"\n  admin_cidr = "{cidr}"\n'
                                         f"  ports      = {ports}\n}}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cfn", type=int, default=300)
    parser.add_argument("--tf-modules", type=int, default=500)
    parser.add_argument("--tf-flat", type=int, default=300)
    parser.add_argument("--tf-dynamic", type=int, default=300)
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--tf-mesh", type=int, default=30)
    parser.add_argument("--tf-registry", type=int, default=8)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    for sub, count in (("cloudformation", args.cfn), ("terraform-modules", args.tf_modules),
                       ("terraform-flat", args.tf_flat), ("terraform-dynamic", args.tf_dynamic)):
        (args.out / sub).mkdir(parents=True, exist_ok=True)
    for index in range(args.cfn):
        (args.out / "cloudformation" / f"t{index:04d}.yaml").write_text(cloudformation(rng, args.groups))
    for index in range(args.tf_modules):
        module = args.out / "terraform-modules" / f"m{index:04d}"
        module.mkdir(exist_ok=True)
        (module / "main.tf").write_text(terraform(rng, 2, f"m{index}"))
    for index in range(args.tf_flat):
        (args.out / "terraform-flat" / f"f{index:04d}.tf").write_text(terraform(rng, args.groups, f"f{index}"))
    for index in range(args.tf_dynamic):
        (args.out / "terraform-dynamic" / f"d{index:04d}.tf").write_text(
            terraform_dynamic(rng, args.groups, f"d{index}"))
    terraform_mesh(rng, args.out, args.tf_mesh)
    terraform_registry(rng, args.out, args.tf_registry, args.groups)


if __name__ == "__main__":
    main()
